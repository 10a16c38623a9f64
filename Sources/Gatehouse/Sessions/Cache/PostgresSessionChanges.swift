import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Keeps one instance's ``SessionCache`` true to what every other instance on the same PostgreSQL
/// database writes.
///
/// The database announces each session that ends or whose credentials or profile change,
/// whoever changed it (another instance, `gatehouse sessions`, SQL by hand): a trigger of
/// ``PostgresSchema`` version 3 notifies ``channel`` with the schema and the keys, or `*` for a
/// large batch.
/// This service listens on a connection of its own and drops each announced session.
///
/// While it is not listening (at start, after the connection is lost, while the database is
/// down) the cache is distrusted and every read goes to the database; once listening resumes the
/// cache is trusted again, empty. A heartbeat on the listening connection finds one that died
/// without a word within ``heartbeat`` twice over.
public final class PostgresSessionChanges: Service {
    /// The channel the schema's trigger notifies.
    public static let channel = "gatehouse_sessions"

    private let client: PostgresClient
    private let cache: SessionCache
    private let logger: Logger
    /// How long to wait before listening again after the connection was lost.
    public let retryDelay: Duration
    /// How often the listening connection is asked for a sign of life.
    public let heartbeat: Duration
    private let listener = Mutex<Int32?>(nil)

    public init(client: PostgresClient, cache: SessionCache, retryDelay: Duration = .seconds(1), heartbeat: Duration = .seconds(5), logger: Logger) {
        self.client = client
        self.cache = cache
        self.retryDelay = retryDelay
        self.heartbeat = heartbeat
        self.logger = logger
    }

    /// The database server process of the listening connection, while there is one.
    public var listeningProcessID: Int32? { listener.withLock { $0 } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lost = false
            while !Task.isCancelled {
                do {
                    try await self.listen(recovering: lost)
                } catch {
                    if Task.isCancelled { break }
                    if !lost {
                        self.logger.warning(
                            "Session-change notifications from PostgreSQL stopped; every session is read from the database until they are back",
                            metadata: ["error.type": "\(type(of: error))"]
                        )
                    }
                }
                lost = true
                self.listener.withLock { $0 = nil }
                self.cache.distrust()
                try? await Task.sleep(for: self.retryDelay)
            }
            self.cache.distrust()
        }
    }

    /// Listens until the connection fails (or the task is cancelled). Getting a connection and
    /// starting to listen must take at most ``heartbeat`` twice over, or the attempt is given up.
    ///
    /// An attempt that fails or is given up closes its connection: PostgresNIO's queries do not
    /// stop when their task is cancelled, so one waiting on a connection that died without a word
    /// would otherwise hold the attempt, and the service, for as long as the kernel keeps the socket.
    private func listen(recovering: Bool) async throws {
        let attempt = ListeningAttempt()
        let patience = heartbeat * 2
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.listen(recovering: recovering, attempt: attempt) }
            group.addTask {
                try await Task.sleep(for: patience)
                guard attempt.hasStarted else {
                    attempt.end()
                    throw ListeningNotStarted()
                }
            }
            // The first child to fail ends the attempt; leaving the group cancels the other.
            for try await _ in group {}
        }
    }

    /// Listens on a connection of the pool's until listening fails; the connection is closed
    /// before the pool has it back. PostgresNIO 1.33 can lease a connection that is still closing
    /// (as one is just after the server ended it) to the next query, which then waits for ever:
    /// a closed one it drops.
    private func listen(recovering: Bool, attempt: ListeningAttempt) async throws {
        try await client.withConnection { connection in
            guard attempt.use(connection) else { throw ListeningNotStarted() }
            // Given back to the pool with this closure's end: from then on it is not the attempt's to close.
            defer { attempt.end(closing: false) }
            do {
                try await listen(on: connection, recovering: recovering, attempt: attempt)
            } catch {
                try? await connection.close()
                throw error
            }
        }
    }

    private func listen(on connection: PostgresConnection, recovering: Bool, attempt: ListeningAttempt) async throws {
        let (cache, logger, heartbeat) = (self.cache, self.logger, self.heartbeat)
        var (processID, schema): (Int32?, String) = (nil, "")
        for try await (id, name) in try await connection.query("SELECT pg_backend_pid(), current_schema()", logger: logger).decode((Int32, String).self) {
            (processID, schema) = (id, name)
        }
        let prefix = schema + ":"

        try await connection.listen(on: Self.channel) { notifications in
            // From here on every change is announced: what the cache held before may be stale.
            self.listener.withLock { $0 = processID }
            attempt.markStarted()
            cache.trust()
            if recovering { logger.info("Session-change notifications from PostgreSQL flow again; the session cache is in use") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The cache is distrusted the moment either child finds the connection gone, not once it is given back.
                group.addTask {
                    do {
                        for try await notification in notifications where notification.payload.hasPrefix(prefix) {
                            Self.apply(notification.payload.dropFirst(prefix.count), to: cache)
                        }
                    } catch {
                        cache.distrust()
                        throw error
                    }
                    cache.distrust()
                    throw ListeningEnded()
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: heartbeat)
                        // Unanswered, the deadline ends the attempt, which closes the connection: that
                        // fails the query, which does not stop for the deadline.
                        do {
                            _ = try await withDeadline(.now + heartbeat) { try await connection.query("SELECT 1", logger: logger) }
                        } catch {
                            if !Task.isCancelled { cache.distrust() }
                            throw error
                        }
                    }
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        }
    }

    /// Drops what a notification names (after its schema): keys in hex, comma-separated, or `*` for everything.
    static func apply(_ payload: Substring, to cache: SessionCache) {
        guard payload != "*" else { return cache.flush() }
        for hex in payload.split(separator: ",") {
            guard let digest = Data(hexadecimal: hex) else { return cache.flush() }
            cache.invalidate(SessionKey(digest: digest))
        }
    }

    /// The notification stream finished: the connection is gone.
    struct ListeningEnded: Error {}

    /// No connection was had, or LISTEN did not complete, in time.
    struct ListeningNotStarted: Error {}

    /// One attempt to listen: whether it listens yet, and the connection it holds, which
    /// ``end()`` closes so that whatever waits on it fails at once.
    private final class ListeningAttempt: Sendable {
        private struct State {
            var started = false
            var ended = false
            var connection: PostgresConnection?
        }

        private let state = Mutex(State())

        var hasStarted: Bool { state.withLock { $0.started } }

        func markStarted() { state.withLock { $0.started = true } }

        /// Takes `connection` as the attempt's; false when the attempt has ended already.
        func use(_ connection: PostgresConnection) -> Bool {
            state.withLock { state in
                guard !state.ended else { return false }
                state.connection = connection
                return true
            }
        }

        /// Ends the attempt, closing the connection it holds unless `closing` is false (the pool
        /// drops a closed connection).
        func end(closing: Bool = true) {
            let connection = state.withLock { state in
                state.ended = true
                defer { state.connection = nil }
                return state.connection
            }
            if closing { connection?.close().whenComplete { _ in } }
        }
    }
}

extension Data {
    /// The bytes `text` spells in hexadecimal, or nil when it is not an even run of hex digits.
    init?(hexadecimal text: Substring) {
        guard text.utf8.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count / 2)
        var high: UInt8?
        for character in text.utf8 {
            let value: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = character - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        self.init(bytes)
    }
}
