import NIOCore
import NIOPosix
import Testing

/// A plain TCP connection to a local server, for sending bytes no well-behaved HTTP client sends.
struct RawConnection {
    /// What the server did with the connection.
    struct Outcome {
        /// Everything the server sent before it closed the connection.
        var received: String
        /// How long after the first byte was written the server closed the connection.
        var closedAfter: Duration

        /// The status line's code, when the server answered at all.
        var statusCode: Int? {
            guard received.hasPrefix("HTTP/1.1 ") else { return nil }
            return Int(received.dropFirst(9).prefix(3))
        }
    }

    /// Connects to `port` on loopback, writes `chunks` one after another with `pause` between them,
    /// and reads until the server closes the connection (or `limit` passes, which throws).
    ///
    /// Writes that fail because the server already closed the connection end the writing quietly:
    /// a server that refuses a request may close before the client has finished sending it.
    static func exchange(port: Int, chunks: [String], pause: Duration = .zero, limit: Duration = .seconds(10)) async throws -> Outcome {
        let channel = try await connect(port: port)
        let started = ContinuousClock.now
        var outcome: Outcome?
        do {
            try await channel.executeThenClose { inbound, outbound in
                outcome = try await exchange(inbound: inbound, outbound: outbound, chunks: chunks, pause: pause, limit: limit, started: started)
            }
        } catch {
            // Closing a connection the server has already closed fails; the outcome stands.
            guard let outcome else { throw error }
            return outcome
        }
        return try #require(outcome)
    }

    private static func exchange(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        chunks: [String],
        pause: Duration,
        limit: Duration,
        started: ContinuousClock.Instant
    ) async throws -> Outcome {
        try await withThrowingTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                for (index, chunk) in chunks.enumerated() {
                    if index > 0, pause > .zero { try await Task.sleep(for: pause) }
                    do { try await outbound.write(ByteBuffer(string: chunk)) } catch { return nil }
                }
                return nil
            }
            group.addTask {
                var received = ByteBuffer()
                do {
                    for try await var part in inbound { received.writeBuffer(&part) }
                } catch {
                    // A reset after the answer still counts as the server closing.
                }
                return Outcome(received: String(buffer: received), closedAfter: ContinuousClock.now - started)
            }
            group.addTask {
                try await Task.sleep(for: limit)
                throw ConnectionStayedOpen(limit: limit)
            }
            while let result = try await group.next() {
                if let outcome = result {
                    group.cancelAll()
                    return outcome
                }
            }
            throw ConnectionStayedOpen(limit: limit)
        }
    }

    /// Connects to `port`, writes `head`, reads until the server's first answer head has arrived
    /// (an interim `100 Continue` or a final answer), then writes `body` whatever it was and reads
    /// until the server closes the connection (or `limit` passes, which throws).
    /// - Returns: what the server sent before the body was written, and the whole exchange.
    static func expectingContinue(port: Int, head: String, body: String, limit: Duration = .seconds(10)) async throws -> (beforeBody: String, outcome: Outcome)
    {
        let channel = try await connect(port: port)
        let started = ContinuousClock.now
        return try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: (beforeBody: String, outcome: Outcome).self) { group in
                group.addTask {
                    try await outbound.write(ByteBuffer(string: head))
                    var received = ByteBuffer()
                    var parts = inbound.makeAsyncIterator()
                    while !String(buffer: received).contains("\r\n\r\n"), var part = try await parts.next() {
                        received.writeBuffer(&part)
                    }
                    let beforeBody = String(buffer: received)
                    try? await outbound.write(ByteBuffer(string: body))
                    do {
                        while var part = try await parts.next() { received.writeBuffer(&part) }
                    } catch {
                        // A reset after the answer still counts as the server closing.
                    }
                    return (beforeBody, Outcome(received: String(buffer: received), closedAfter: ContinuousClock.now - started))
                }
                group.addTask {
                    try await Task.sleep(for: limit)
                    throw ConnectionStayedOpen(limit: limit)
                }
                let result = try await group.next()!
                group.cancelAll()
                return result
            }
        }
    }

    /// Connects to `port`, writes `bytes` and closes the connection without reading: a client
    /// that goes away mid-request.
    static func sendAndClose(port: Int, bytes: String) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(string: bytes)).get()
        try await channel.close().get()
    }

    /// A connection to `port` on loopback, as bytes both ways.
    private static func connect(port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    struct ConnectionStayedOpen: Error, CustomStringConvertible {
        let limit: Duration
        var description: String { "the server kept the connection open for more than \(limit)" }
    }
}
