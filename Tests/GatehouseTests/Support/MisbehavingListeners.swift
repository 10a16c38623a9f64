import Foundation
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback server that accepts every connection and closes it at once, before any answer,
/// counting the connections: a provider behind a load balancer that drops connections.
struct HangUpListener: Sendable {
    let port: Int
    private let channel: any Channel
    private let accepted: ConnectionCounter

    /// The connections accepted so far.
    var connectionCount: Int { accepted.value }

    static func start() async throws -> HangUpListener {
        let accepted = ConnectionCounter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                accepted.increment()
                return child.close()
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return HangUpListener(port: channel.localAddress?.port ?? 0, channel: channel, accepted: accepted)
    }

    func stop() async throws { try await channel.close() }

    final class ConnectionCounter: Sendable {
        private let count = Mutex(0)
        func increment() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }
}

/// A loopback port whose accept queue is full, so that new connections are never completed: the
/// kernel drops their SYNs and the client waits for its connect timeout.
final class BlackholeListener: Sendable {
    let port: Int
    private let descriptors: [Int32]

    init() throws {
        let (listener, bound) = try boundLoopbackSocket()
        var address = bound
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard listen(listener, 0) == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
        // A backlog of 0 holds one completed connection; these fill it and the half-open queue.
        var fillers: [Int32] = []
        for _ in 0..<3 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, length) }
            }
            fillers.append(filler)
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.descriptors = [listener] + fillers
    }

    /// Whether a new connection attempt is left unanswered for `patience`: the precondition of a
    /// connect-timeout test (a completed connection would make it a slow-answer test instead).
    func dropsNewConnections(patience: Duration = .milliseconds(300)) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        defer { close(probe) }
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var poller = pollfd(fd: probe, events: Int16(POLLOUT), revents: 0)
        let milliseconds = Int32(patience.components.seconds * 1000 + patience.components.attoseconds / 1_000_000_000_000_000)
        return poll(&poller, 1, milliseconds) == 0
    }

    deinit {
        for descriptor in descriptors { close(descriptor) }
    }
}

/// A loopback port bound but never listened on: every connection to it is refused. Unlike a port
/// that `LoopbackPort.free()` found free a moment ago, no server of a suite running beside can
/// take it meanwhile (a "down" app answered 404 when one did); it stays held for the whole run.
enum RefusingPort {
    static func reserve() throws -> Int {
        // The descriptor is never closed: the port stays taken.
        Int(UInt16(bigEndian: try boundLoopbackSocket().address.sin_port))
    }
}

/// A TCP socket bound to a port of 127.0.0.1 the kernel picked, and its address.
private func boundLoopbackSocket() throws -> (descriptor: Int32, address: sockaddr_in) {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
            bind(descriptor, address, length) == 0 && getsockname(descriptor, address, &length) == 0
        }
    }
    guard descriptor >= 0, bound else { throw POSIXError(.EADDRNOTAVAIL) }
    return (descriptor, address)
}
