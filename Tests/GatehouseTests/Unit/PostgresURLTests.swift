import Foundation
import Logging
import PostgresNIO
import Testing

@testable import Gatehouse

@Suite("PostgreSQL URLs and TLS")
struct PostgresURLTests {
    @Test("without sslmode, a loopback host prefers TLS and any other host requires it")
    func defaults() throws {
        for host in ["127.0.0.1", "localhost", "[::1]", "127.0.0.53"] {
            #expect(try PostgresURL("postgres://u:p@\(host):5432/db").tlsMode == .prefer, "\(host)")
        }
        for host in ["db.internal", "10.0.0.5", "postgres", "[2001:db8::1]", "127.example.com."] {
            #expect(try PostgresURL("postgres://u:p@\(host)/db").tlsMode == .require, "\(host)")
        }
        let explicit = try PostgresURL("postgresql://u:p%40ss@db.internal:6432/sessions?sslmode=disable")
        #expect(explicit.tlsMode == .disable)
        #expect(explicit.password == "p@ss")
        #expect(explicit.port == 6432)
        #expect(explicit.database == "sessions")
    }

    @Test("an unknown sslmode, a CA file with a mode that checks nothing, and an unreadable CA file are refused without quoting the password")
    func refusals() throws {
        let password = "s3cret-\(UUID().uuidString)"
        for url in [
            "postgres://u:\(password)@db.internal/db?sslmode=verify",
            "postgres://u:\(password)@db.internal/db?sslmode=REQUIRE",
            "postgres://u:\(password)@db.internal/db?sslmode=prefer&sslrootcert=/etc/hostname",
        ] {
            #expect {
                try PostgresURL(url)
            } throws: { error in
                let problem = error as? PostgresURL.Problem
                return problem != nil && !problem!.description.contains(password) && !problem!.fix.isEmpty
            }
        }
        let missingCA = try PostgresURL("postgres://u:\(password)@db.internal/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
        #expect(missingCA.tlsMode == .verifyFull)
        #expect {
            try missingCA.tls()
        } throws: { error in
            "\(error)".contains("/nonexistent/ca.pem") && !"\(error)".contains(password)
        }
    }

    @Test("the configuration names sessions.postgresURL and the fix for an unknown sslmode, without its password")
    func configurationProblem() async throws {
        let key = Data(repeating: 1, count: 32).base64EncodedString()
        let problems = await ConfigurationTests().problems(
            #"{"publicURL": "http://127.0.0.1:8080", "provider": {"type": "mock"}, "sessions": {"store": "postgres", "postgresURL": "postgres://u:hunter2@db.internal/db?sslmode=on", "encryptionKey": "\#(key)"}}"#
        )
        let text = problems.map(\.description).joined(separator: "\n")
        #expect(problems.contains { $0.key == "sessions.postgresURL" }, "\(text)")
        #expect(text.contains("verify-full"))
        #expect(!text.contains("hunter2"))
    }

    @Test(
        "sslmode=require refuses a server that offers no TLS; the default for loopback connects",
        .enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason)
    )
    func requireMeansTLS() async throws {
        let url = try PostgresTestDatabase.requireURL()
        guard var components = URLComponents(string: url) else { throw PostgresURL.Problem(description: "bad test URL", fix: "") }
        components.queryItems = nil
        // The test server runs without TLS (as Debian's cluster does by default): the loopback default connects...
        var loopback = try PostgresSessionStore.makeClientConfiguration(url: try #require(components.string))
        loopback.options.connectTimeout = .seconds(3)
        try await PostgresTestDatabase.withClient(loopback) { client in
            try await client.query("SELECT 1")
        }
        // ...and require does not fall back to a connection in clear.
        components.queryItems = [URLQueryItem(name: "sslmode", value: "require")]
        var required = try PostgresSessionStore.makeClientConfiguration(url: try #require(components.string))
        required.options.connectTimeout = .seconds(3)
        try await PostgresTestDatabase.withClient(required) { client in
            let store = PostgresSessionStore(client: client, keys: SessionStoreTests.keys, operationTimeout: .seconds(4), logger: Logger(label: "test"))
            await #expect(throws: (any Error).self) { try await store.checkHealth() }
        }
    }
}

/// TLS against a PostgreSQL server of the test's own, with a certificate of a CA of its own.
@Suite("PostgreSQL over TLS", .timeLimit(.minutes(2)), .enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason))
struct PostgresTLSTests {
    /// Whether a pool for `url` answers a query within `patience`.
    ///
    /// A connection that should be made gets 20 s (a TLS handshake on a loaded CI machine took
    /// more than 5 s); one that should be refused gets 5 s, as it fails on the certificate, not
    /// the clock, and each such wait lasts the whole patience.
    func connects(_ url: String, patience: Duration = .seconds(20)) async throws -> Bool {
        var configuration = try PostgresSessionStore.makeClientConfiguration(url: url)
        configuration.options.connectTimeout = .seconds(10)
        var answered = false
        try await PostgresTestDatabase.withClient(configuration) { client in
            let store = PostgresSessionStore(client: client, keys: SessionStoreTests.keys, operationTimeout: patience, logger: Logger(label: "test"))
            answered = (try? await store.checkHealth()) != nil
        }
        return answered
    }

    @Test("verify-full with the server's CA connects; another CA, or a host the certificate does not name, is refused; verify-ca checks the chain only")
    func verifyFull() async throws {
        let server = try await ScratchPostgres.make(tls: true)
        do {
            let base = "postgres://gatehouse@127.0.0.1:\(server.port)/postgres"
            let other = "postgres://gatehouse@127.0.0.2:\(server.port)/postgres"
            #expect(try await connects("\(base)?sslmode=verify-full&sslrootcert=\(server.certificateAuthority)"))
            #expect(try await connects("\(base)?sslmode=require"), "require encrypts without checking")
            #expect(try await connects(base), "the loopback default (prefer) takes the TLS on offer")

            // A CA of another's: the chain does not verify.
            let stranger = try await ScratchPostgres.make(tls: true)
            let strangerCA = stranger.certificateAuthority
            #expect(try await !connects("\(base)?sslmode=verify-full&sslrootcert=\(strangerCA)", patience: .seconds(5)))
            #expect(try await !connects("\(base)?sslmode=verify-ca&sslrootcert=\(strangerCA)", patience: .seconds(5)))
            await stranger.destroy()

            // 127.0.0.2 is the same server, but the certificate names 127.0.0.1 only.
            #expect(try await !connects("\(other)?sslmode=verify-full&sslrootcert=\(server.certificateAuthority)", patience: .seconds(5)))
            #expect(try await connects("\(other)?sslmode=verify-ca&sslrootcert=\(server.certificateAuthority)"))
        } catch {
            await server.destroy()
            throw error
        }
        await server.destroy()
    }
}
