import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

@testable import Gatehouse

/// The validation cache over real HTTP: concurrent requests share one provider call, failures are
/// never reused.
@Suite("Revalidation coalescing", .timeLimit(.minutes(1)))
struct RevalidationCoalescingTests {
    /// Sends `count` GETs at once (over up to 100 connections) and returns their statuses.
    static func concurrentGets(_ url: String, cookie: String, count: Int) async throws -> [Int] {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 100)
        // Waiting for one of the 100 connections is not what is tested: a loaded machine may take long.
        configuration.timeout.connect = .seconds(30)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<count {
                    group.addTask {
                        var request = HTTPClientRequest(url: url)
                        request.headers.add(name: "Cookie", value: "gatehouse_session=\(cookie)")
                        let response = try await client.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        return Int(response.status.code)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            try await client.shutdown()
            return statuses
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// A signed-in session over a live stack whose revalidation (every 30 s) is due.
    struct StaleSession {
        let stack: LiveStack.Clients
        var browser: Browser
        let cookie: String
        let dashboardURL: String
    }

    /// Logs in, sets the provider's fault, moves the clock past the revalidation interval, and runs `body`.
    func withStaleSession(providerFault: MockFault? = nil, _ body: @escaping @Sendable (inout StaleSession) async throws -> Void) async throws {
        let clock = ManualClock()
        try await LiveStack().run(revalidateAfter: 30, clock: clock) { stack in
            var browser = Browser(stack.gateway)
            try await stack.logIn(&browser)
            var session = StaleSession(
                stack: stack,
                browser: browser,
                cookie: try #require(browser.jar["gatehouse_session"]),
                dashboardURL: "http://127.0.0.1:\(try #require(stack.gateway.port))/dashboard"
            )
            await stack.directory.setFault(providerFault)
            clock.advance(by: 31)
            try await body(&session)
        }
    }

    @Test(
        "500 concurrent gated requests on a session whose validation just expired make exactly one provider call",
        arguments: [nil, MockFault.delay(.milliseconds(200))]
    )
    func oneCallForABurst(providerFault: MockFault?) async throws {
        try await withStaleSession(providerFault: providerFault) { session in
            let directory = session.stack.directory
            let fetchesBefore = await directory.profileFetchCount
            let statuses = try await Self.concurrentGets(session.dashboardURL, cookie: session.cookie, count: 500)
            #expect(statuses.count == 500)
            #expect(statuses.allSatisfy { $0 == 200 }, "\(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
            #expect(await directory.profileFetchCount == fetchesBefore + 1)
            // The gateway's own count agrees: one request fetched, the rest shared it or found it fresh.
            let metrics = try await MetricsTests.scrape(session.stack.gateway)
            #expect(metrics.value(#"gatehouse_session_validations_total{result="fetched"}"#) == 1)
            let shared = metrics.value(#"gatehouse_session_validations_total{result="shared"}"#) ?? 0
            let fresh = metrics.value(#"gatehouse_session_validations_total{result="fresh"}"#) ?? 0
            #expect(shared + fresh == 499)

            // Trusted again for 30 s: the next burst asks nobody.
            _ = try await Self.concurrentGets(session.dashboardURL, cookie: session.cookie, count: 50)
            #expect(await directory.profileFetchCount == fetchesBefore + 1)
        }
    }

    @Test("a failed revalidation is not reused: the next request asks the provider again")
    func failuresAreNotCached() async throws {
        try await withStaleSession(providerFault: .status(500)) { session in
            let directory = session.stack.directory
            let apiRequestsBefore = await directory.apiRequestCount
            let failed = try await session.browser.get("/dashboard")
            #expect(failed.status == .badGateway)
            await directory.setFault(nil)
            let recovered = try await session.browser.get("/dashboard")
            #expect(recovered.status == .ok)
            #expect(await directory.apiRequestCount == apiRequestsBefore + 2)
        }
    }

    @Test("a token rejected during a burst ends the session for every request of the burst, with one provider call")
    func rejectionDuringABurst() async throws {
        let rejected = MockFault.body(status: 403, contentType: "application/json", text: #"{"ErrorCode": 905, "Message": "Access token is invalid"}"#)
        try await withStaleSession(providerFault: rejected) { session in
            let apiRequestsBefore = await session.stack.directory.apiRequestCount
            let statuses = try await Self.concurrentGets(session.dashboardURL, cookie: session.cookie, count: 200)
            #expect(statuses.allSatisfy { $0 == 401 })
            #expect(await session.stack.directory.apiRequestCount == apiRequestsBefore + 1)
            #expect(await (session.stack.store as? MemorySessionStore)?.count == 0)
        }
    }
}
