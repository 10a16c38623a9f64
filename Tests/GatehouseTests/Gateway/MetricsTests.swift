import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Gatehouse

@Suite("Metrics (/metrics in Prometheus format)")
struct MetricsTests {
    static func scrape(_ client: any TestClientProtocol) async throws -> PrometheusText {
        let response = try await client.execute(uri: "/metrics", method: .get, headers: [:], body: nil)
        #expect(response.status == .ok)
        #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
        return PrometheusText(text: String(buffer: response.body))
    }

    @Test("requests, logins, provider calls, validations and live sessions are counted as they happen")
    func countsTheFlow() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var browser = Browser(client)
            #expect(try await browser.get("/dashboard").status == .unauthorized)
            let callback = try await browser.startLogin()
            let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
            #expect(try await browser.get("\(callback)?token=\(token.value)").status == .seeOther)
            #expect(try await browser.get("/dashboard").status == .ok)
            #expect(try await browser.get("/dashboard").status == .ok)
            // The spent state again: refused, and counted by its reason.
            #expect(try await client.execute(uri: "\(callback)?token=\(token.value)", method: .get, headers: [:], body: nil).status == .forbidden)

            let firstCount = ContinuousClock.now
            let signedIn = try await Self.scrape(client)
            #expect(signedIn.value(#"gatehouse_http_requests_total{method="GET",route="/dashboard",status="401"}"#) == 1)
            #expect(signedIn.value(#"gatehouse_http_requests_total{method="GET",route="/dashboard",status="200"}"#) == 2)
            #expect(signedIn.value(#"gatehouse_http_requests_total{method="GET",route="/login/callback/{state}",status="303"}"#) == 1)
            #expect(signedIn.value(#"gatehouse_http_request_duration_seconds_count{method="GET",route="/dashboard"}"#) == 3)
            #expect(signedIn.value(#"gatehouse_http_request_duration_seconds_bucket{method="GET",route="/dashboard",le="+Inf"}"#) == 3)
            #expect(signedIn.value("gatehouse_logins_succeeded_total") == 1)
            #expect(signedIn.value(#"gatehouse_logins_failed_total{reason="state_mismatch"}"#) == 1)
            #expect(signedIn.value(#"gatehouse_provider_calls_total{operation="login",outcome="ok"}"#) == 1)
            #expect(signedIn.value(#"gatehouse_provider_call_duration_seconds_count{operation="login"}"#) == 1)
            #expect(signedIn.value(#"gatehouse_session_validations_total{result="fresh"}"#) == 2)
            #expect(signedIn.value(#"gatehouse_session_validations_total{result="fetched"}"#) == nil)
            #expect(signedIn.value("gatehouse_sessions_live") == 1)

            try await browser.post("/logout")
            let signedOut = try await Self.scrape(client)
            #expect(signedOut.value(#"gatehouse_provider_calls_total{operation="logout",outcome="ok"}"#) == 1)
            // The count is asked for at most every 15 s; beside every other suite this test can outlast that.
            if ContinuousClock.now - firstCount < .seconds(14) {
                #expect(signedOut.value("gatehouse_sessions_live") == 1, "counted at most every 15 s: the first scrape's count stands")
            }
            for _ in 0..<20 { _ = try await Self.scrape(client) }
            let periods = 1 + Int((ContinuousClock.now - firstCount) / .seconds(15))
            #expect(harness.store.liveCountCalls <= periods, "twenty more scrapes cost the store nothing, one count per 15 s")
        }
    }

    @Test("the live count is asked of the store once per period, and concurrent scrapes share one count")
    func liveCountCache() async throws {
        let store = SwitchableStore()
        let sessions = SessionManager(store: store, configuration: .init())
        let cached = LiveSessionCount(sessions: sessions, maximumAge: .seconds(3600))
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<50 { group.addTask { try await cached.value() } }
            for try await count in group { #expect(count == 0) }
        }
        #expect(store.liveCountCalls == 1)
        let fresh = LiveSessionCount(sessions: sessions, maximumAge: .zero)
        _ = try await fresh.value()
        _ = try await fresh.value()
        #expect(store.liveCountCalls == 3, "with no period, each scrape counts")
    }

    @Test("every metric family has HELP and TYPE, and promtool finds nothing wrong with the exposition")
    func promtool() async throws {
        let harness = {
            var harness = GatewayHarness(revalidateAfter: 0)
            harness.cache = SessionCache()
            // An upstream no one listens for, so the proxy's families have a sample.
            harness.configuration.upstreams = [.init(pathPrefix: "/app/", target: .http(origin: "http://127.0.0.1:\(try! RefusingPort.reserve())"))]
            return harness
        }()
        try await harness.run { client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            try await browser.get("/dashboard")
            try await browser.get("/auth")
            try await browser.get("/login/callback/nope?token=x")
            #expect(try await browser.get("/app/x").status == .badGateway)
            try await browser.post("/logout")
            let text = try await Self.scrape(client).text
            let families = Set(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
            #expect(families == Set(GatewayMetrics.help.keys.map { Substring($0) }), "every family the gateway has, each described")
            for family in families {
                #expect(text.contains("# HELP \(family) "), "\(family) has no HELP")
            }
            let checked = try await Promtool.check(text)
            #expect(checked.status == 0 && checked.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool: \(checked.output)")
        }
    }

    @Test("provider failures are counted by outcome, failed logins by the reason the browser was shown")
    func countsFailures() async throws {
        let harness = GatewayHarness(revalidateAfter: 0)
        try await harness.run { client in
            var browser = Browser(client)
            try await browser.logIn(directory: harness.directory)
            harness.provider.failRevalidations(with: .timedOut())
            #expect(try await browser.get("/dashboard").status == .gatewayTimeout)
            harness.provider.failRevalidations(with: .tokenRejected(code: 905, reason: "Access token is invalid"))
            #expect(try await browser.get("/dashboard").status == .unauthorized)
            harness.provider.failCompletions(with: .tokenRejected(code: 905, reason: "Access token is invalid"))
            var other = Browser(client)
            #expect(try await other.logIn(directory: harness.directory).status == .unauthorized)

            let metrics = try await Self.scrape(client)
            #expect(metrics.value(#"gatehouse_provider_calls_total{operation="login",outcome="ok"}"#) == 1)
            #expect(metrics.value(#"gatehouse_provider_calls_total{operation="revalidation",outcome="timed_out"}"#) == 1)
            #expect(metrics.value(#"gatehouse_provider_calls_total{operation="revalidation",outcome="token_rejected"}"#) == 1)
            #expect(metrics.value(#"gatehouse_provider_calls_total{operation="login",outcome="token_rejected"}"#) == 1)
            #expect(metrics.value(#"gatehouse_session_validations_total{result="fetched"}"#) == 2)
            #expect(metrics.value(#"gatehouse_logins_failed_total{reason="token_rejected"}"#) == 1)
            #expect(metrics.value("gatehouse_logins_succeeded_total") == 1)
            #expect(metrics.value("gatehouse_sessions_live") == 0)
        }
    }

    @Test("unmatched paths and unknown methods count under fixed labels, so a scan cannot create series")
    func boundedLabels() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            for index in 0..<3 {
                #expect(try await client.execute(uri: "/scan-\(index)/wp-admin.php", method: .get, headers: [:], body: nil).status == .notFound)
            }
            _ = try await client.execute(uri: "/healthz", method: HTTPRequest.Method("BREW")!, headers: [:], body: nil)

            let metrics = try await Self.scrape(client)
            #expect(metrics.value(#"gatehouse_http_requests_total{method="GET",route="NotFound",status="404"}"#) == 3)
            #expect(!metrics.text.contains("scan-"))
            #expect(!metrics.text.contains("BREW"))
            #expect(metrics.seriesNames.contains { $0.hasPrefix(#"gatehouse_http_requests_total{method="OTHER""#) })
        }
    }

    @Test("metrics.enabled false: no /metrics route")
    func disabled() async throws {
        var harness = GatewayHarness()
        harness.configuration.metrics.enabled = false
        try await harness.run { client in
            let response = try await client.execute(uri: "/metrics", method: .get, headers: [:], body: nil)
            #expect(response.status == .notFound)
        }
    }
}

/// Prometheus's own checker (`promtool`, from Debian's prometheus package).
enum Promtool {
    static let binary = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let required = ProcessInfo.processInfo.environment["GATEHOUSE_REQUIRE_PROMTOOL"] == "1"

    /// `promtool check metrics` on `text`; without promtool, a failure when required, else a
    /// recorded skip reason as the output and status 0.
    static func check(_ text: String) async throws -> (status: Int32, output: String) {
        guard let binary else {
            try #require(!required, "GATEHOUSE_REQUIRE_PROMTOOL=1 but promtool is not installed (apt-get install -y prometheus)")
            return (0, "")
        }
        let input = try TestFixtures.temporaryDirectory().appendingPathComponent("metrics.txt")
        defer { try? FileManager.default.removeItem(at: input.deletingLastPathComponent()) }
        try Data(text.utf8).write(to: input)
        let process = try GatehouseProcess(["-c", "\(binary) check metrics < '\(input.path)'"], executable: URL(fileURLWithPath: "/bin/sh"))
        return await process.finished()
    }
}
