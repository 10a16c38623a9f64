import Foundation
import Logging
import PostgresNIO

/// Spent login states in PostgreSQL (`gatehouse_spent_login_states`), so a state is used at most
/// once across every gateway instance: the first instance to insert its SHA-256 wins, in one
/// statement. Rows past their expiry are deleted now and then as states are spent. Spent
/// credentials share the table: their keys are digests of another domain (``SpentCredentials``).
public final class PostgresSpentLoginStateStore: SpentLoginStateStore {
    private let client: PostgresClient
    private let operationTimeout: Duration
    private let now: @Sendable () -> Date
    private let logger: Logger

    /// The table is created by ``PostgresSessionStore/migrate()``.
    public init(client: PostgresClient, operationTimeout: Duration = .seconds(5), now: @escaping @Sendable () -> Date = Date.init, logger: Logger) {
        self.client = client
        self.operationTimeout = operationTimeout
        self.now = now
        self.logger = logger
    }

    public func spend(_ attempt: LoginAttempt, expiresAt: Date) async throws -> Bool {
        let key = LoginAttempt.storageKey(for: attempt.state)
        let (expiry, cutoff) = (expiresAt.timeIntervalSince1970, now().timeIntervalSince1970)
        // Clean up now and then rather than on every login: expired states are refused anyway.
        let sweep = Int.random(in: 0..<64) == 0
        let (client, logger) = (self.client, self.logger)
        return try await withDeadline(.now + operationTimeout) {
            if sweep {
                try await client.query("DELETE FROM gatehouse_spent_login_states WHERE expires_at < \(cutoff)", logger: logger)
            }
            let rows = try await client.query(
                "INSERT INTO gatehouse_spent_login_states (state_key, expires_at) VALUES (\(key), \(expiry)) ON CONFLICT DO NOTHING RETURNING 1",
                logger: logger
            )
            for try await _ in rows { return true }
            return false
        }
    }

    public func spendCredential(_ key: Data, expiresAt: Date) async throws -> Bool {
        let (expiry, cutoff) = (expiresAt.timeIntervalSince1970, now().timeIntervalSince1970)
        let (client, logger) = (self.client, self.logger)
        return try await withDeadline(.now + operationTimeout) {
            // A row past its expiry no longer counts: it is taken over, in the same statement.
            let rows = try await client.query(
                """
                INSERT INTO gatehouse_spent_login_states (state_key, expires_at) VALUES (\(key), \(expiry))
                ON CONFLICT (state_key) DO UPDATE SET expires_at = EXCLUDED.expires_at
                WHERE gatehouse_spent_login_states.expires_at < \(cutoff)
                RETURNING 1
                """,
                logger: logger
            )
            for try await _ in rows { return true }
            return false
        }
    }

    public func denyCredential(_ key: Data, until: Date) async throws {
        let expiry = until.timeIntervalSince1970
        let (client, logger) = (self.client, self.logger)
        _ = try await withDeadline(.now + operationTimeout) {
            try await client.query(
                """
                INSERT INTO gatehouse_spent_login_states (state_key, expires_at) VALUES (\(key), \(expiry))
                ON CONFLICT (state_key) DO UPDATE SET expires_at = GREATEST(gatehouse_spent_login_states.expires_at, EXCLUDED.expires_at)
                """,
                logger: logger
            )
        }
    }
}
