import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The time as a shared database server tells it, so that every gateway on that database stamps
/// sessions by one clock, however far their own clocks drift apart.
///
/// Reading the server's time on every request would cost a round trip, so the clock keeps the
/// offset between the server's time and this machine's, sampled at start and then every
/// ``interval``: a sample takes the server's time against the middle of the round trip. Until the
/// first sample, and while the server cannot be reached, the last offset known holds (zero at first).
public final class DatabaseClock: Service, Sendable {
    /// Reads the server's time now (for PostgreSQL, `clock_timestamp()`).
    public typealias ServerTime = @Sendable () async throws -> Date

    private let serverTime: ServerTime
    private let interval: Duration
    private let logger: Logger
    private let offset = Mutex<TimeInterval>(0)

    public init(interval: Duration = .seconds(300), logger: Logger, serverTime: @escaping ServerTime) {
        self.serverTime = serverTime
        self.interval = interval
        self.logger = logger
    }

    /// The server's time now, by the last sampled offset.
    public func now() -> Date {
        Date().addingTimeInterval(offset.withLock { $0 })
    }

    /// Seconds the server's clock is ahead of this machine's (negative when behind), as last sampled.
    public var sampledOffset: TimeInterval { offset.withLock { $0 } }

    /// Takes one sample of the server's time and keeps the offset it gives.
    public func sample() async throws {
        let sent = Date()
        let server = try await serverTime()
        let received = Date()
        let middle = sent.addingTimeInterval(received.timeIntervalSince(sent) / 2)
        let sampled = server.timeIntervalSince(middle)
        offset.withLock { $0 = sampled }
        if abs(sampled) >= 2 {
            logger.notice("This machine's clock differs from the database server's; sessions follow the server's", metadata: ["offset_s": "\(sampled)"])
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: self.interval)
                } catch {
                    return
                }
                do {
                    try await self.sample()
                } catch {
                    self.logger.warning("Reading the database server's clock failed; the last offset holds", metadata: ["error.type": "\(type(of: error))"])
                }
            }
        }
    }
}
