import Hummingbird
import Logging

/// `GET /metrics`: everything counted so far, in Prometheus's text format.
///
/// The live-session gauge is counted by the store (at most every 15 s, ``LiveSessionCount``), so
/// it counts every instance's sessions when the store is shared, and expired sessions the sweeper
/// has not removed yet do not count.
struct MetricsController<Context: RequestContext>: Sendable {
    let metrics: GatewayMetrics
    let liveSessions: LiveSessionCount
    let sessionCache: SessionCache?

    init(metrics: GatewayMetrics, sessions: SessionManager, sessionCache: SessionCache?) {
        self.metrics = metrics
        self.liveSessions = LiveSessionCount(sessions: sessions)
        self.sessionCache = sessionCache
    }

    func addRoutes(to router: Router<Context>) {
        router.get("metrics") { _, context in await scrape(logger: context.logger) }
    }

    func scrape(logger: Logger) async -> Response {
        do {
            metrics.recordLiveSessions(try await liveSessions.value())
        } catch {
            // The other metrics are still worth having; the gauge keeps its last value.
            logger.warning("The session store failed to count live sessions", metadata: ["error.type": "\(type(of: error))"])
        }
        if let sessionCache { metrics.recordSessionCache(sessionCache.statistics) }
        let text = metrics.exposition() ?? []
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: text))
        )
    }
}
