import Foundation
import NIOHTTP1
import Testing

@testable import Gatehouse

/// A flood of anonymous logins against the real binary, with its memory read from `/proc`.
@Suite("Login flood against the binary", .timeLimit(.minutes(3)))
struct LoginFloodTests {
    @Test("20,000 anonymous /login requests: resident memory stays flat, and a real user's login started before them succeeds")
    func flood() async throws {
        let port = try LoopbackPort.free()
        let base = "http://127.0.0.1:\(port)"
        let config = try TestFixtures.temporaryDirectory().appendingPathComponent("gatehouse.json")
        try Data(
            #"{"publicURL": "\#(base)", "listen": {"port": \#(port)}, "provider": {"type": "mock"}, "sessions": {"store": "memory"}, "logLevel": "warning", "logins": {"perClientPerMinute": 1000000}}"#
                .utf8
        ).write(to: config)
        // The flood comes from one address: its rate limit (LoginAmplificationTests) is lifted, for what is measured here is memory.
        let process = try GatehouseProcess(["serve", "--config", config.path])
        _ = try await process.waitFor("listening on")
        let client = GatewayHTTPClient()

        // The real user starts a login and is at the provider's page while the flood comes.
        let login = try await client.send(.GET, "\(base)/login?next=/reports")
        let attempt = try #require(login.cookies(prefixed: "gatehouse_session_state_").first)
        let hostedPage = try #require(login.headers.first(name: "Location").flatMap(URLComponents.init(string:)))
        let returnURL = try #require(hostedPage.queryItems?.first { $0.name == "return_url" }?.value)

        try await flood(client, url: "\(base)/login?next=/x", count: 1_000)  // warm-up: pools, caches, allocator
        let before = ResidentMemory.current(pid: "\(process.pid)")
        let floodSize = 20_000
        try await flood(client, url: "\(base)/login?next=/x", count: floodSize)
        let after = ResidentMemory.current(pid: "\(process.pid)")
        print("login flood: \(floodSize) requests; gateway resident memory \(before / 1_048_576) MB before, \(after / 1_048_576) MB after")

        let form = "action=login&uid=\(TestFixtures.adaID)&return_url=\(PercentEncoding.encodeComponent(returnURL))"
        let submitted = try await client.send(
            .POST,
            "\(base)/mock-idp/auth.aspx",
            headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: form
        )
        let back = try #require(submitted.headers.first(name: "Location"))
        let callback = try await client.send(.GET, back, cookies: [attempt.name: attempt.value])
        #expect(callback.status == 303)
        #expect(callback.headers.first(name: "Location") == "/reports")
        #expect(callback.cookie("gatehouse_session")?.isEmpty == false)
        #expect(after - before < 32 * 1_048_576, "no per-login state: \(before / 1_048_576) MB → \(after / 1_048_576) MB")

        try await client.shutdown()
        #expect(await process.stop() == 0)
    }

    /// `count` GETs of `url` from 32 concurrent clients without cookies, each of which must be a 303.
    private func flood(_ client: GatewayHTTPClient, url: String, count: Int) async throws {
        let redirected = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<32 {
                group.addTask {
                    var redirected = 0
                    for _ in stride(from: worker, to: count, by: 32) where try await client.send(.GET, url).status == 303 {
                        redirected += 1
                    }
                    return redirected
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(redirected == count)
    }
}
