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

    @Test(
        "500 concurrent gated requests on a session whose validation just expired make exactly one provider call",
        arguments: [nil, MockFault.delay(.milliseconds(200))]
    )
    func oneCallForABurst(providerFault: MockFault?) async throws {
        let clock = ManualClock()
        try await LiveStack().run(revalidateAfter: 30, clock: clock) { stack in
            var browser = Browser(stack.gateway)
            try await stack.logIn(&browser)
            let cookie = try #require(browser.jar["gatehouse_session"])
            let url = "http://127.0.0.1:\(try #require(stack.gateway.port))/dashboard"
            await stack.directory.setFault(providerFault)

            clock.advance(by: 31)
            let fetchesBefore = await stack.directory.profileFetchCount
            let statuses = try await Self.concurrentGets(url, cookie: cookie, count: 500)
            #expect(statuses.count == 500)
            #expect(statuses.allSatisfy { $0 == 200 }, "\(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
            #expect(await stack.directory.profileFetchCount == fetchesBefore + 1)

            // Trusted again for 30 s: the next burst asks nobody.
            _ = try await Self.concurrentGets(url, cookie: cookie, count: 50)
            #expect(await stack.directory.profileFetchCount == fetchesBefore + 1)
        }
    }

    @Test("a failed revalidation is not reused: the next request asks the provider again")
    func failuresAreNotCached() async throws {
        let clock = ManualClock()
        try await LiveStack().run(revalidateAfter: 30, clock: clock) { stack in
            var browser = Browser(stack.gateway)
            try await stack.logIn(&browser)
            clock.advance(by: 31)
            let apiRequestsBefore = await stack.directory.apiRequestCount
            await stack.directory.setFault(.status(500))
            #expect(try await browser.get("/dashboard").status == .badGateway)
            await stack.directory.setFault(nil)
            #expect(try await browser.get("/dashboard").status == .ok)
            #expect(await stack.directory.apiRequestCount == apiRequestsBefore + 2)
        }
    }

    @Test("a token rejected during a burst ends the session for every request of the burst, with one provider call")
    func rejectionDuringABurst() async throws {
        let clock = ManualClock()
        try await LiveStack().run(revalidateAfter: 30, clock: clock) { stack in
            var browser = Browser(stack.gateway)
            try await stack.logIn(&browser)
            let cookie = try #require(browser.jar["gatehouse_session"])
            let url = "http://127.0.0.1:\(try #require(stack.gateway.port))/dashboard"
            await stack.directory.setFault(
                .body(status: 403, contentType: "application/json", text: #"{"ErrorCode": 905, "Message": "Access token is invalid"}"#)
            )
            clock.advance(by: 31)
            let apiRequestsBefore = await stack.directory.apiRequestCount
            let statuses = try await Self.concurrentGets(url, cookie: cookie, count: 200)
            #expect(statuses.allSatisfy { $0 == 401 })
            #expect(await stack.directory.apiRequestCount == apiRequestsBefore + 1)
            #expect(await (stack.store as? MemorySessionStore)?.count == 0)
        }
    }
}
