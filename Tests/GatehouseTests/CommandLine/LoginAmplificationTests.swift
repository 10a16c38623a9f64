import Foundation
import NIOHTTP1
import Synchronization
import Testing

@testable import Gatehouse

/// Bogus logins cost their sender, not the signed-in: the real binary against a mock provider
/// that answers like a real one, not at once.
@Suite("Login floods against the binary", .timeLimit(.minutes(2)))
struct LoginAmplificationTests {
    /// The attackers' shared state: when to stop, and what their callbacks were answered.
    final class Flood: Sendable {
        let stopped = Atomic(false)
        let statuses = Mutex<[Int: Int]>([:])
    }

    @Test(
        "bogus callbacks from 300 addresses, each every 4 s, at a provider taking 1.5 s: they get fast 503s, and a signed-in user asking the provider on every request is served (at least 90%)"
    )
    func bogusCallbackFlood() async throws {
        try await ManyInstancesTests().withMockProvider { idpURL, directory in
            let config = try ManyInstancesTests().writeConfig(
                idpURL: idpURL,
                sessions: #"{"store": "memory", "secureCookies": false, "revalidateAfterSeconds": 0}"#,
                timeoutSeconds: 4
            )
            let gateway = try GatehouseProcess(["serve", "--config", config.path, "--port", "0", "--log-level", "error"])
            let base = "http://127.0.0.1:\(try await gateway.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
            let http = GatewayHTTPClient(connectionsPerHost: 400)
            let (session, _) = try await http.logIn(at: base, directory: directory)

            // Every provider call now takes as long as a real provider's over the internet.
            await directory.setFault(.delay(.milliseconds(1500)))
            let flood = Flood()
            let attackers = Task {
                await withTaskGroup(of: Void.self) { group in
                    for attacker in 0..<300 {
                        group.addTask {
                            var round = 0
                            let clock = ContinuousClock()
                            var due = clock.now
                            while !flood.stopped.load(ordering: .relaxed) {
                                round += 1
                                // Load pacing, not synchronisation: each attacker sends a login every 4 s. Without
                                // a budget their provider calls (1.5 s each) would outgrow the 64 provider
                                // connections: 300 waiting on 64, each call then waiting longer than the 4 s deadline.
                                due += .seconds(4)
                                try? await clock.sleep(until: due)
                                // Each request from an address of its own, as a botnet's: per-client limits do not stop them.
                                let address = ["X-Forwarded-For": "10.\(attacker / 250).\(attacker % 250).\(round % 250 + 1)"]
                                guard let login = try? await http.send(.GET, "\(base)/login", headers: address),
                                    let attempt = login.cookies(prefixed: "gatehouse_session_state_").first,
                                    let location = login.headers.first(name: "Location").flatMap(URLComponents.init(string:)),
                                    let returnURL = location.queryItems?.first(where: { $0.name == "return_url" })?.value.flatMap(URLComponents.init(string:))
                                else { continue }
                                let bogus = UUID().uuidString.lowercased()
                                let callback = try? await http.send(
                                    .GET,
                                    "\(base)\(returnURL.path)?token=\(bogus)",
                                    cookies: [attempt.name: attempt.value],
                                    headers: address
                                )
                                flood.statuses.withLock { $0[callback?.status ?? 0, default: 0] += 1 }
                            }
                        }
                    }
                }
            }
            // The user keeps working while the flood runs: every request asks the provider again.
            await directory.waitForAPIRequests(await directory.apiRequestCount + 50)
            var served = 0
            var failures: [Int: Int] = [:]
            for _ in 0..<20 {
                let answer = try await http.send(.GET, "\(base)/dashboard", cookies: ["gatehouse_session": session])
                if answer.status == 200 { served += 1 } else { failures[answer.status, default: 0] += 1 }
            }
            flood.stopped.store(true, ordering: .relaxed)
            await attackers.value
            let statuses = flood.statuses.withLock { $0 }
            print("login flood: signed-in user served \(served)/20 (failures \(failures)); bogus callbacks answered \(statuses)")
            // 20 of 20 in 13 of 15 runs here and in CI, 18 in the others: a 504 when this process,
            // which also runs the provider and the 300 attackers, was starved past the 4 s deadline.
            #expect(served >= 18, "at least 90% of the signed-in user's requests succeed; failures: \(failures)")
            #expect((statuses[503] ?? 0) > 0, "logins over the provider-call budget fail fast with 503")
            #expect(statuses[200] == nil && statuses[303] == nil, "no bogus callback made a session")
            try await http.shutdown()
            #expect(await gateway.stop() == 0)
        }
    }

    @Test("one address over its login rate gets 429 with Retry-After; its callback of a login begun before still lands; another address is not held back")
    func perClientRate() async throws {
        try await ManyInstancesTests().withMockProvider { idpURL, directory in
            let config = try ManyInstancesTests().writeConfig(
                idpURL: idpURL,
                sessions: #"{"store": "memory", "secureCookies": false}"#,
                extra: #""logins": {"perClientPerMinute": 2},"#
            )
            let gateway = try GatehouseProcess(["serve", "--config", config.path, "--port", "0", "--log-level", "error"])
            let base = "http://127.0.0.1:\(try await gateway.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
            let http = GatewayHTTPClient()
            let address = ["X-Forwarded-For": "203.0.113.7"]
            var statuses: [Int] = []
            var firstLogin: GatewayHTTPClient.Answer?
            for _ in 0..<15 {
                let answer = try await http.send(.GET, "\(base)/login", headers: address)
                if firstLogin == nil { firstLogin = answer }
                statuses.append(answer.status)
            }
            #expect(statuses.prefix(10).allSatisfy { $0 == 303 }, "a burst of 10 passes: \(statuses)")
            #expect(statuses.suffix(3).allSatisfy { $0 == 429 }, "\(statuses)")
            let refused = try await http.send(.GET, "\(base)/login", headers: address)
            #expect(refused.status == 429)
            #expect(Int(refused.headers.first(name: "Retry-After") ?? "") ?? 0 >= 1)
            #expect(refused.json?["error"] == .string("too_many_logins"))

            // The callbacks are counted apart: the login that address began first still completes.
            let login = try #require(firstLogin)
            let attempt = try #require(login.cookies(prefixed: "gatehouse_session_state_").first)
            let location = try #require(login.headers.first(name: "Location").flatMap(URLComponents.init(string:)))
            let returnURL = try #require(location.queryItems?.first { $0.name == "return_url" }?.value.flatMap(URLComponents.init(string:)))
            let token = try #require(await directory.issueToken(forUserID: TestFixtures.adaID))
            let callback = try await http.send(.GET, "\(base)\(returnURL.path)?token=\(token.value)", cookies: [attempt.name: attempt.value], headers: address)
            #expect(callback.status == 303)

            // A spoofed chain does not help: the gateway reads the hop its trusted proxy (loopback) added.
            let spoofed = try await http.send(.GET, "\(base)/login", headers: ["X-Forwarded-For": "198.51.100.1, 203.0.113.7"])
            #expect(spoofed.status == 429)
            #expect(try await http.send(.GET, "\(base)/login", headers: ["X-Forwarded-For": "203.0.113.8"]).status == 303)
            #expect(try await http.send(.GET, "\(base)/healthz").status == 200, "other routes are not limited")
            try await http.shutdown()
            #expect(await gateway.stop() == 0)
        }
    }
}
