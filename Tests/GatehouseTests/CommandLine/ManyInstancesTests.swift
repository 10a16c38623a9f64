import Foundation
import HummingbirdTesting
import Logging
import NIOHTTP1
import Testing

@testable import Gatehouse

/// Gateway processes as an operator runs them: several on one database, and stopping gracefully.
@Suite("Gateway processes", .timeLimit(.minutes(2)))
struct ManyInstancesTests {
    /// Writes a `serve` configuration pointed at the mock provider at `idpURL`.
    /// - Parameter extra: more members for the top level, each followed by a comma.
    func writeConfig(idpURL: String, sessions: String, apiSecret: String = "unused-api-secret", timeoutSeconds: Double = 5, extra: String = "") throws -> URL {
        let url = try TestFixtures.temporaryDirectory().appendingPathComponent("gatehouse.json")
        let json = """
            {
              "publicURL": "http://127.0.0.1:8080", \(extra)
              "provider": {"type": "loginradius", "apiKey": "test-api-key", "hostedPageURL": "\(idpURL)/auth.aspx", "apiURL": "\(idpURL)", "apiSecret": "\(apiSecret)", "timeoutSeconds": \(timeoutSeconds)},
              "sessions": \(sessions)
            }
            """
        try Data(json.utf8).write(to: url)
        return url
    }

    /// Runs `body` with the mock provider on an ephemeral port.
    func withMockProvider(_ body: @escaping @Sendable (_ idpURL: String, _ directory: MockDirectory) async throws -> Void) async throws {
        let directory = MockDirectory(users: TestFixtures.users)
        let mock = await buildMockProviderApplication(directory: directory, port: 0, logger: Logger(label: "mock-idp"))
        try await mock.test(.live) { client in
            try await body("http://localhost:\(try #require(client.port))", directory)
        }
    }

    @Test(
        "two instances on one PostgreSQL database: login begun on A completes on B, dashboard on B, log out on B, dead on A; a rejected token is rejected by both; kill -9 loses nothing",
        .enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason)
    )
    func sharedSessions() async throws {
        let postgresURL = try PostgresTestDatabase.requireURL()
        let key = Data(repeating: 5, count: 32).base64EncodedString()
        try await withMockProvider { idpURL, directory in
            let config = try writeConfig(
                idpURL: idpURL,
                sessions:
                    #"{"store": "postgres", "postgresURL": "env:GATEHOUSE_TEST_POSTGRES_URL", "encryptionKey": "\#(key)", "secureCookies": false, "revalidateAfterSeconds": 0}"#
            )
            let environment = ["GATEHOUSE_TEST_POSTGRES_URL": postgresURL]
            // Started together: schema creation must not race.
            let a = try GatehouseProcess(["serve", "--config", config.path, "--port", "0"], environment: environment)
            let b = try GatehouseProcess(["serve", "--config", config.path, "--port", "0"], environment: environment)
            let instanceA = "http://127.0.0.1:\(try await a.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
            let instanceB = "http://127.0.0.1:\(try await b.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
            let http = GatewayHTTPClient()

            // The login begins on A and its callback lands on B, as behind a load balancer.
            let (session, _) = try await http.logIn(at: instanceA, callbackAt: instanceB, directory: directory)
            let onB = try await http.send(.GET, "\(instanceB)/dashboard", cookies: ["gatehouse_session": session])
            #expect(onB.status == 200)
            #expect(onB.json?["user"]?["id"] == .string(TestFixtures.adaID))
            let logout = try await http.send(.POST, "\(instanceB)/logout", cookies: ["gatehouse_session": session])
            #expect(logout.json == .object(["loggedOut": .bool(true), "providerRevoked": .bool(true)]))
            #expect(try await http.status(of: "\(instanceA)/dashboard", cookies: ["gatehouse_session": session], becomes: 401) == 401)

            // The provider rejects a token: the instance that notices ends the shared session for both.
            let (second, token) = try await http.logIn(at: instanceA, directory: directory)
            #expect(try await http.send(.GET, "\(instanceA)/dashboard", cookies: ["gatehouse_session": second]).status == 200)
            await directory.expire(token)
            #expect(try await http.send(.GET, "\(instanceB)/dashboard", cookies: ["gatehouse_session": second]).status == 401)
            // A learns of the end within milliseconds; until then it may still ask the provider (which refuses).
            #expect(try await http.status(of: "\(instanceA)/dashboard", cookies: ["gatehouse_session": second], becomes: 401) == 401)
            let fetches = await directory.profileFetchCount
            #expect(try await http.send(.GET, "\(instanceA)/dashboard", cookies: ["gatehouse_session": second]).status == 401)
            #expect(await directory.profileFetchCount == fetches, "A found no session left to revalidate")

            // kill -9 loses nothing: a new instance serves the session from the database.
            let (third, _) = try await http.logIn(at: instanceA, directory: directory)
            _ = await a.stop(signal: SIGKILL)
            let restarted = try GatehouseProcess(["serve", "--config", config.path, "--port", "0"], environment: environment)
            let instanceC = "http://127.0.0.1:\(try await restarted.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
            #expect(try await http.send(.GET, "\(instanceC)/dashboard", cookies: ["gatehouse_session": third]).status == 200)

            try await http.shutdown()
            #expect(await b.stop() == 0)
            #expect(await restarted.stop() == 0)
        }
    }

    @Test("SIGTERM while a request waits on a slow provider: the request completes, the process exits 0")
    func gracefulShutdown() async throws {
        try await withMockProvider { idpURL, directory in
            let config = try writeConfig(idpURL: idpURL, sessions: #"{"store": "memory", "secureCookies": false, "revalidateAfterSeconds": 0}"#)
            let gateway = try GatehouseProcess(["serve", "--config", config.path, "--port", "0"])
            let base = "http://127.0.0.1:\(try await gateway.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
            let http = GatewayHTTPClient()
            let (session, _) = try await http.logIn(at: base, directory: directory)

            await directory.setFault(.delay(.milliseconds(1500)))
            let requestsBefore = await directory.apiRequestCount
            let slow = Task { try await http.send(.GET, "\(base)/dashboard", cookies: ["gatehouse_session": session]) }
            await directory.waitForAPIRequests(requestsBefore + 1)  // the gateway is now waiting on the provider
            let exit = Task { await gateway.stop(signal: SIGTERM) }

            let answer = try await slow.value
            #expect(answer.status == 200)
            #expect(answer.json?["user"]?["id"] == .string(TestFixtures.adaID))
            #expect(await exit.value == 0)
            #expect(gateway.printed.contains("Gatehouse stopped"))
            try await http.shutdown()
        }
    }

    @Test("at --log-level trace, a whole session (login, dashboard, a provider error quoting the token, logout) prints no secret")
    func traceLogsKeepSecrets() async throws {
        let apiSecret = "api-secret-\(UUID().uuidString)"
        try await withMockProvider { idpURL, directory in
            let config = try writeConfig(
                idpURL: idpURL,
                sessions: #"{"store": "memory", "secureCookies": false, "revalidateAfterSeconds": 0}"#,
                apiSecret: "env:TEST_API_SECRET"
            )
            let gateway = try GatehouseProcess(
                ["serve", "--config", config.path, "--port", "0", "--log-level", "trace"],
                environment: ["TEST_API_SECRET": apiSecret]
            )
            let base = "http://127.0.0.1:\(try await gateway.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
            let http = GatewayHTTPClient()
            let (session, token) = try await http.logIn(at: base, directory: directory)
            #expect(try await http.send(.GET, "\(base)/dashboard", cookies: ["gatehouse_session": session]).status == 200)

            await directory.setFault(.body(status: 400, contentType: "application/json", text: #"{"ErrorCode": 1234, "Message": "bad \#(token.value)"}"#))
            let failed = try await http.send(.GET, "\(base)/dashboard", cookies: ["gatehouse_session": session])
            #expect(failed.status == 502)
            await directory.setFault(nil)
            let logout = try await http.send(.POST, "\(base)/logout", cookies: ["gatehouse_session": session])
            #expect(logout.status == 200)
            try await http.shutdown()
            #expect(await gateway.stop() == 0)

            let printed = gateway.printed
            #expect(printed.contains("trace") || printed.contains("debug"), "the process did log at a verbose level")
            #expect(printed.contains("/login/callback/{state}"))
            for (name, secret) in [("token", token.value), ("session id", session), ("API secret", apiSecret)] {
                #expect(!printed.contains(secret), "the \(name) was printed")
                #expect(!String(decoding: failed.body, as: UTF8.self).contains(secret), "the \(name) is in an error body")
            }
        }
    }
    /// Ada twice and Grace once on `bases` (round robin); `gatehouse sessions revoke --user` ends
    /// Ada's sessions on every instance at their next request (within `within`), and no one else's.
    /// - Parameter within: how long the gateways may take to learn of the revocation (none on SQLite).
    func revokeWhileServing(
        config: URL,
        environment: [String: String],
        bases: [String],
        directory: MockDirectory,
        within: Duration = .zero
    ) async throws -> [String] {
        let http = GatewayHTTPClient()
        var adaSessions: [String] = []
        for index in 0..<2 {
            adaSessions.append(try await http.logIn(at: bases[index % bases.count], directory: directory).session)
        }
        let grace = try await http.logIn(at: bases[bases.count - 1], directory: directory, as: TestFixtures.graceID).session
        for base in bases {
            for session in adaSessions + [grace] {
                #expect(try await http.send(.GET, "\(base)/dashboard", cookies: ["gatehouse_session": session]).status == 200)
            }
        }
        let stats = try await GatehouseProcess.run(["sessions", "stats", "--config", config.path], environment: environment)
        #expect(stats.status == 0, "\(stats.output)")

        let revoke = try await GatehouseProcess.run(["sessions", "revoke", "--config", config.path, "--user", TestFixtures.adaID], environment: environment)
        #expect(revoke.status == 0, "\(revoke.output)")
        #expect(revoke.output.contains("Ended 2 sessions of user \(TestFixtures.adaID)."))
        for base in bases {
            for session in adaSessions {
                // Gateways on PostgreSQL learn of it within milliseconds (a notification); on SQLite at once.
                #expect(try await http.status(of: "\(base)/dashboard", cookies: ["gatehouse_session": session], becomes: 401, within: within) == 401)
                #expect(try await http.send(.GET, "\(base)/auth", cookies: ["gatehouse_session": session]).status == 401)
            }
            #expect(try await http.send(.GET, "\(base)/dashboard", cookies: ["gatehouse_session": grace]).status == 200)
        }
        let again = try await GatehouseProcess.run(["sessions", "revoke", "--config", config.path, "--user", TestFixtures.adaID], environment: environment)
        #expect(again.output.contains("Ended 0 sessions"))
        let after = try await GatehouseProcess.run(["sessions", "stats", "--config", config.path], environment: environment)
        try await http.shutdown()
        return [stats.output, after.output]
    }

    @Test("gatehouse sessions revoke --user ends a user's sessions in a running gateway's SQLite store; stats counts rows, live sessions and users")
    func revokeWithSQLite() async throws {
        let directory = try TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("sessions.sqlite").path
        try await withMockProvider { idpURL, mock in
            let config = try writeConfig(
                idpURL: idpURL,
                sessions: #"{"store": "sqlite", "sqlitePath": "\#(database)", "secureCookies": false, "revalidateAfterSeconds": 0}"#
            )
            let gateway = try GatehouseProcess(["serve", "--config", config.path, "--port", "0"])
            let base = "http://127.0.0.1:\(try await gateway.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
            let outputs = try await revokeWhileServing(config: config, environment: [:], bases: [base], directory: mock)
            #expect(outputs[0].contains("sessions stored: 3") && outputs[0].contains("sessions live: 3") && outputs[0].contains("users with a live session: 2"))
            #expect(outputs[1].contains("sessions stored: 1") && outputs[1].contains("users with a live session: 1"))
            #expect(await gateway.stop() == 0)

            // Pointed at the wrong place, it makes nothing and says so, rather than ending 0 sessions.
            let elsewhere = try await GatehouseProcess.run(
                ["sessions", "revoke", "--config", config.path, "--user", TestFixtures.graceID],
                environment: ["GATEHOUSE_SESSIONS_SQLITE_PATH": "missing.sqlite"]
            )
            #expect(elsewhere.status != 0)
            #expect(elsewhere.output.contains("there is no session database at /"), "\(elsewhere.output)")
            #expect(!FileManager.default.fileExists(atPath: GatehouseProcess.repositoryRoot.appendingPathComponent("missing.sqlite").path))
            let otherKey = Data(repeating: 9, count: 32).base64EncodedString()
            let wrongKey = try await GatehouseProcess.run(
                ["sessions", "revoke", "--config", config.path, "--user", TestFixtures.graceID],
                environment: ["GATEHOUSE_SESSIONS_ENCRYPTION_KEY": otherKey]
            )
            #expect(wrongKey.status != 0)
            #expect(wrongKey.output.contains("the session key does not open the sessions in this store"), "\(wrongKey.output)")
            #expect(!wrongKey.output.contains(otherKey))
        }
        // The memory store cannot be reached from another process: a clear refusal.
        let memory = try await GatehouseProcess.run(
            ["sessions", "stats"],
            environment: ["GATEHOUSE_PROVIDER_TYPE": "mock", "GATEHOUSE_SESSIONS_STORE": "memory"]
        )
        #expect(memory.status != 0)
        #expect(memory.output.contains("sessions.store is memory"))
    }

    @Test(
        "a logout on one of two PostgreSQL instances is refused by the other, which had the session cached, within 100 ms",
        .enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason)
    )
    func revocationReachesTheOtherCache() async throws {
        let postgresURL = try PostgresTestDatabase.requireURL()
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try await withMockProvider { idpURL, directory in
            let config = try writeConfig(
                idpURL: idpURL,
                sessions:
                    #"{"store": "postgres", "postgresURL": "env:GATEHOUSE_TEST_POSTGRES_URL", "encryptionKey": "\#(key)", "secureCookies": false, "revalidateAfterSeconds": 300}"#
            )
            let environment = ["GATEHOUSE_TEST_POSTGRES_URL": postgresURL]
            let a = try GatehouseProcess(["serve", "--config", config.path, "--port", "0"], environment: environment)
            let b = try GatehouseProcess(["serve", "--config", config.path, "--port", "0"], environment: environment)
            let portA = Int(try await a.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))!
            let portB = Int(try await b.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))!
            let http = GatewayHTTPClient()
            var delays: [Duration] = []
            for _ in 0..<5 {
                let session = try await http.logIn(at: "http://127.0.0.1:\(portA)", directory: directory).session
                // B reads the session from the database once, and from its cache after.
                for _ in 0..<3 {
                    #expect(try await http.send(.GET, "http://127.0.0.1:\(portB)/auth", cookies: ["gatehouse_session": session]).status == 200)
                }
                let headers = ["Cookie": "gatehouse_session=\(session)", "Accept": "application/json"]
                // The delay is to the sending of the first request B refuses: its own answer's time is not the notification's.
                let (logout, delay) = await BlockingHTTPProbe.onThread { () -> (Int, Duration?) in
                    let logout = BlockingHTTPProbe.status(port: portA, method: "POST", path: "/logout", headers: headers)
                    let revoked = ContinuousClock.now
                    while ContinuousClock.now - revoked < .seconds(5) {
                        let sent = ContinuousClock.now
                        if BlockingHTTPProbe.status(port: portB, path: "/auth", headers: headers) == 401 { return (logout, sent - revoked) }
                    }
                    return (logout, nil)
                }
                #expect(logout == 200)
                delays.append(try #require(delay, "instance B still served the session 5 s after the logout on A"))
            }
            let metrics = String(decoding: try await http.send(.GET, "http://127.0.0.1:\(portB)/metrics").body, as: UTF8.self)
            let hits = metrics.split(separator: "\n").first { $0.hasPrefix("gatehouse_session_cache_hits_total ") }
            #expect((hits?.split(separator: " ").last.flatMap { Double($0) } ?? 0) >= 5, "B answered from its cache: \(hits ?? "no hits")")
            print("a logout on A was refused on B after \(delays.map { "\($0)" }.joined(separator: ", "))")
            #expect(delays.max()! < .milliseconds(100), "the slowest revocation reached the other instance after \(delays.max()!)")
            try await http.shutdown()
            #expect(await a.stop() == 0)
            #expect(await b.stop() == 0)
        }
    }

    @Test(
        "gatehouse sessions revoke --user ends a user's sessions on every gateway sharing a PostgreSQL store, within 100 ms",
        .enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason)
    )
    func revokeWithPostgres() async throws {
        let postgresURL = try PostgresTestDatabase.requireURL()
        // A key of this test's own: user keys are keyed by it, so other suites' sessions of the same users are not this test's to end.
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try await withMockProvider { idpURL, directory in
            let config = try writeConfig(
                idpURL: idpURL,
                sessions:
                    #"{"store": "postgres", "postgresURL": "env:GATEHOUSE_TEST_POSTGRES_URL", "encryptionKey": "\#(key)", "secureCookies": false, "revalidateAfterSeconds": 30}"#
            )
            let environment = ["GATEHOUSE_TEST_POSTGRES_URL": postgresURL]
            let a = try GatehouseProcess(["serve", "--config", config.path, "--port", "0"], environment: environment)
            let b = try GatehouseProcess(["serve", "--config", config.path, "--port", "0"], environment: environment)
            let instanceA = "http://127.0.0.1:\(try await a.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
            let instanceB = "http://127.0.0.1:\(try await b.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
            let outputs = try await revokeWhileServing(
                config: config,
                environment: environment,
                bases: [instanceA, instanceB],
                directory: directory,
                within: .milliseconds(100)
            )
            #expect(outputs[0].contains("sessions live: ") && outputs[0].contains("users with a live session: "))
            #expect(!outputs.joined().contains(postgresURL), "the database URL (and its password) is never printed")
            #expect(await a.stop() == 0)
            #expect(await b.stop() == 0)
        }
    }
}
