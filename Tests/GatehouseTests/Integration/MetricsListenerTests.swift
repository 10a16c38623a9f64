import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import Testing

@testable import Gatehouse

@Suite("Metrics on a listener of their own", .timeLimit(.minutes(1)))
struct MetricsListenerTests {
    @Test("with metrics.listen, /metrics answers there and not on the gateway's listener, and counts the gateway's requests")
    func separateListener() async throws {
        var configuration = TestFixtures.configuration()
        configuration.metrics.listen = .init(host: "127.0.0.1", port: 0)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let directory = MockDirectory(users: TestFixtures.users)
        let components = GatewayComponents(
            provider: LoginRadiusProvider.mock(directory: directory, hostedPageURL: configuration.provider.hostedPageURL),
            store: MemorySessionStore(),
            mockDirectory: directory
        )
        let app = try await buildApplication(
            configuration: configuration,
            components: components,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            onMetricsServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            }
        )
        try await app.test(.live) { gateway in
            let onGateway = try await gateway.execute(uri: "/metrics", method: .get, headers: [:], body: nil)
            #expect(onGateway.status == .notFound)
            #expect(try await gateway.execute(uri: "/healthz", method: .get, headers: [:], body: nil).status == .ok)

            var metricsPorts = ports.makeAsyncIterator()
            let port = try #require(await metricsPorts.next())
            let http = GatewayHTTPClient()
            let scrape = try await http.send(.GET, "http://127.0.0.1:\(port)/metrics")
            #expect(scrape.status == 200)
            let metrics = PrometheusText(text: String(decoding: scrape.body, as: UTF8.self))
            #expect(metrics.value(#"gatehouse_http_requests_total{method="GET",route="/healthz",status="200"}"#) == 1)
            #expect(metrics.value(#"gatehouse_http_requests_total{method="GET",route="NotFound",status="404"}"#) == 1)
            #expect(metrics.value("gatehouse_sessions_live") == 0)

            let elsewhere = try await http.send(.GET, "http://127.0.0.1:\(port)/dashboard")
            #expect(elsewhere.status == 404, "the metrics listener serves nothing else")
            try await http.shutdown()
        }
    }
}
