import Foundation
import NIOHTTP1
import Testing

@testable import Gatehouse

/// The shared session store goes away and comes back while the real binary serves.
@Suite("PostgreSQL restarts", .timeLimit(.minutes(2)), .enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason))
struct DatabaseRestartTests {
    @Test(
        "PostgreSQL restarted under a running gateway: 503 within the deadline while it is down, sessions and logins again within 15 s, no restart of the gateway"
    )
    func restartUnderTheGateway() async throws {
        let database = try await ScratchPostgres.make()
        do {
            try await ManyInstancesTests().withMockProvider { idpURL, directory in
                let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
                let config = try ManyInstancesTests().writeConfig(
                    idpURL: idpURL,
                    sessions: #"{"store": "postgres", "postgresURL": "\#(database.url)", "encryptionKey": "\#(key)", "secureCookies": false}"#
                )
                let gateway = try GatehouseProcess(["serve", "--config", config.path, "--port", "0", "--log-level", "error"])
                let base = "http://127.0.0.1:\(try await gateway.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
                let http = GatewayHTTPClient()
                let (session, _) = try await http.logIn(at: base, directory: directory)
                #expect(try await http.send(.GET, "\(base)/dashboard", cookies: ["gatehouse_session": session]).status == 200)
                #expect(try await http.send(.GET, "\(base)/readyz").status == 200)

                try await database.stop()
                let clock = ContinuousClock()
                let stopped = clock.now
                for path in ["/readyz", "/dashboard", "/login"] {
                    let started = clock.now
                    var answer = try await http.send(.GET, "\(base)\(path)", cookies: ["gatehouse_session": session])
                    // The session cache serves until the gateway learns its notifications stopped: at
                    // once when the server closes the connection, within a heartbeat (5 s) when it vanishes.
                    while path == "/dashboard", answer.status == 200, clock.now - stopped < .seconds(6) {
                        answer = try await http.send(.GET, "\(base)\(path)", cookies: ["gatehouse_session": session])
                    }
                    let elapsed = clock.now - started
                    if path == "/login" {
                        // /login stores nothing: it still sends the browser to the provider.
                        #expect(answer.status == 303)
                    } else {
                        #expect(answer.status == 503, "\(path) while the database is down")
                    }
                    #expect(elapsed < .seconds(15), "\(path) answered within the store's deadline, not hung (took \(elapsed))")
                }

                try await database.start()
                let restarted = clock.now
                // Recovery is awaited by asking, as a client would, until the answer comes or 15 s pass.
                var recovered = false
                while clock.now - restarted < .seconds(15) {
                    let answer = try await http.send(.GET, "\(base)/dashboard", cookies: ["gatehouse_session": session])
                    if answer.status == 200 {
                        recovered = true
                        break
                    }
                    try await Task.sleep(for: .milliseconds(250))
                }
                let recoveredAfter = clock.now - restarted
                print("PostgreSQL restart: the session was served again \(recoveredAfter) after the server came back")
                #expect(recovered, "the session was served again within 15 s")
                #expect(try await http.send(.GET, "\(base)/readyz").status == 200)
                let (second, _) = try await http.logIn(at: base, directory: directory)
                #expect(try await http.send(.GET, "\(base)/dashboard", cookies: ["gatehouse_session": second]).status == 200)
                try await http.shutdown()
                #expect(await gateway.stop() == 0)
            }
        } catch {
            await database.destroy()
            throw error
        }
        await database.destroy()
    }
}
