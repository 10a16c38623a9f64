import Logging
import ServiceLifecycle

/// Says in the log when the gateway begins to stop, so an operator (and a test) sees the moment
/// new connections stop being taken and the requests in flight are being finished.
struct ShutdownAnnouncement: Service {
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("Stopping: no new connections; finishing the requests in flight")
    }
}
