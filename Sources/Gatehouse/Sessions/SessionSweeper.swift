import Logging
import ServiceLifecycle

/// Removes expired sessions on a timer, so a store does not fill with sessions nobody reads again.
/// Reads enforce expiry on their own; this only reclaims space. Stops at graceful shutdown.
public struct SessionSweeper: Service {
    let sessions: SessionManager
    let interval: Duration
    let logger: Logger

    public init(sessions: SessionManager, interval: Duration = .seconds(60), logger: Logger) {
        self.sessions = sessions
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                do {
                    let removed = try await sessions.sweep()
                    if removed > 0 { logger.debug("Swept expired sessions", metadata: ["count": "\(removed)"]) }
                } catch {
                    logger.warning("Sweeping expired sessions failed", metadata: ["error.type": "\(type(of: error))"])
                }
            }
        }
    }
}
