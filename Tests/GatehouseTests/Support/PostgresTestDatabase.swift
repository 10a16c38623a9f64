import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Testing

@testable import Gatehouse

/// The PostgreSQL server the suites use: `GATEHOUSE_TEST_POSTGRES_URL`, e.g.
/// `postgres://gatehouse:gatehouse@127.0.0.1:5432/gatehouse_test?sslmode=disable`.
///
/// Without it the PostgreSQL cases are skipped with that reason, unless `GATEHOUSE_REQUIRE_POSTGRES=1`
/// (set by CI), where they run and fail instead, so CI can never pass without them.
enum PostgresTestDatabase {
    static let url = ProcessInfo.processInfo.environment["GATEHOUSE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let required = ProcessInfo.processInfo.environment["GATEHOUSE_REQUIRE_POSTGRES"] == "1"
    static let skipReason: Comment = "set GATEHOUSE_TEST_POSTGRES_URL to a PostgreSQL database to run the PostgreSQL suites"

    /// Whether PostgreSQL cases are part of this run.
    static var enabled: Bool { url != nil || required }

    static func requireURL() throws -> String {
        try #require(url, "GATEHOUSE_REQUIRE_POSTGRES=1 but GATEHOUSE_TEST_POSTGRES_URL is not set")
    }

    /// Runs `body` with a pool whose sessions live in a fresh schema, dropped afterwards.
    static func withIsolatedClient(_ body: (PostgresClient) async throws -> Void) async throws {
        let url = try requireURL()
        let schema = "gatehouse_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        var configuration = try PostgresSessionStore.makeClientConfiguration(url: url)
        try await withClient(configuration) { admin in
            try await admin.query("CREATE SCHEMA \(unescaped: schema)")
        }
        configuration.options.additionalStartupParameters = [("search_path", schema)]
        do {
            try await withClient(configuration, body)
        } catch {
            try? await dropSchema(schema, url: url)
            throw error
        }
        try await dropSchema(schema, url: url)
    }

    /// Drops `schema` on a pool of its own, outside the test's task: a test cancelled by its time
    /// limit still cleans up (a pool started in a cancelled task never runs, and its queries would
    /// wait for ever), and within 30 s.
    private static func dropSchema(_ schema: String, url: String) async throws {
        let configuration = try PostgresSessionStore.makeClientConfiguration(url: url)
        try await Task.detached {
            try await withDeadline(.now + .seconds(30)) {
                try await withClient(configuration) { admin in
                    try await admin.query("DROP SCHEMA \(unescaped: schema) CASCADE")
                }
            }
        }.value
    }

    /// Runs `body` with a cache kept true by ``PostgresSessionChanges`` on `client`, once it listens.
    static func withSessionChanges(
        client: PostgresClient,
        retryDelay: Duration = .seconds(1),
        heartbeat: Duration = .seconds(5),
        _ body: (SessionCache, PostgresSessionChanges) async throws -> Void
    ) async throws {
        let cache = SessionCache(trusted: false)
        let changes = PostgresSessionChanges(
            client: client,
            cache: cache,
            retryDelay: retryDelay,
            heartbeat: heartbeat,
            logger: Logger(label: "test.changes")
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await changes.run() }
            defer { group.cancelAll() }
            try await until("the session changes are listened to") { cache.isTrusted }
            try await body(cache, changes)
        }
    }

    static func withSessionChanges(client: PostgresClient, _ body: (SessionCache) async throws -> Void) async throws {
        try await withSessionChanges(client: client) { cache, _ in try await body(cache) }
    }

    /// Returns once `condition` holds, checking every 5 ms; fails after `seconds`.
    static func until(_ what: Comment, seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting until \(what)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Runs a pool for the length of `body`.
    static func withClient(_ configuration: PostgresClient.Configuration, _ body: (PostgresClient) async throws -> Void) async throws {
        let client = PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "test.postgres"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
    }
}
