import AsyncHTTPClient
import NIOCore
import NIOPosix

/// One upstream's HTTP clients: one per event loop of NIO's shared group (the one Hummingbird
/// serves on), so the app's connection for a request is served by the thread that serves the
/// browser's, and an upload can be paced by that thread (``PacedBody``).
struct UpstreamClients: Sendable {
    private let clients: [(eventLoop: any EventLoop, client: HTTPClient)]

    init(_ make: (any EventLoop) -> HTTPClient) {
        clients = MultiThreadedEventLoopGroup.singleton.makeIterator().map { ($0, make($0)) }
    }

    /// Every client, each to be shut down with the application.
    var all: [HTTPClient] { clients.map(\.client) }

    /// The client on `eventLoop`, or the first when `eventLoop` is not one of the group's (router tests).
    func client(on eventLoop: (any EventLoop)?) -> (eventLoop: any EventLoop, client: HTTPClient) {
        clients.first { $0.eventLoop === eventLoop } ?? clients[0]
    }
}

/// A request body handed to AsyncHTTPClient a part at a time, each part only once the connection's
/// event loop has run the write of the one before, and only until the exchange's answer is done
/// (``UploadHandover``).
///
/// AsyncHTTPClient queues a body part's write to the connection's event loop without waiting and
/// pauses only when the connection reports it cannot take more; a client uploading faster than the
/// queue is worked off would pile parts up in memory, without bound (measured: 1.25 GB resident
/// after a 4 GiB upload to a fast reader; see swift-server/async-http-client#784). Waiting for the
/// loop to reach this point lets the pause arrive before the next part is taken from the client.
struct PacedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    let base: Base
    let eventLoop: any EventLoop
    let handover: UploadHandover

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let eventLoop: any EventLoop
        let handover: UploadHandover
        var handedOut = false

        mutating func next() async throws -> ByteBuffer? {
            if handedOut { try await eventLoop.submit {}.get() }
            handedOut = true
            var base = self.base
            defer { self.base = base }
            return try await handover.read { try await base.next() }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), eventLoop: eventLoop, handover: handover)
    }
}
