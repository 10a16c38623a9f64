import Foundation
import Logging
import PostgresNIO

/// Logins in flight in PostgreSQL, so the provider's callback may land on any gateway instance.
///
/// Rows hold the SHA-256 of the state (the table holds no usable state), the validated `next`, and
/// the expiry. Completing deletes the row and returns it in one statement, so a state is used at
/// most once even when two instances race for it. Expired rows are removed as new logins begin.
public final class PostgresPendingLoginStore: PendingLoginStore {
    public let lifetime: TimeInterval
    private let client: PostgresClient
    private let operationTimeout: Duration
    private let now: @Sendable () -> Date
    private let logger: Logger

    public init(
        client: PostgresClient,
        lifetime: TimeInterval = 600,
        operationTimeout: Duration = .seconds(5),
        now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger
    ) {
        self.client = client
        self.lifetime = lifetime
        self.operationTimeout = operationTimeout
        self.now = now
        self.logger = logger
    }

    /// Creates the table if it is missing; safe when several instances start at once.
    public func migrate() async throws {
        try await PostgresMigration.apply(
            [
                """
                CREATE TABLE IF NOT EXISTS gatehouse_login_states (
                    state_key BYTEA PRIMARY KEY,
                    next TEXT,
                    expires_at DOUBLE PRECISION NOT NULL
                )
                """,
                "CREATE INDEX IF NOT EXISTS gatehouse_login_states_expiry ON gatehouse_login_states (expires_at)",
            ],
            client: client,
            timeout: operationTimeout * 2,
            logger: logger
        )
    }

    public func begin(next: String?) async throws -> PendingLogin {
        let date = now()
        let login = PendingLogin(state: PendingLogin.newState(), next: next, expiresAt: date.addingTimeInterval(lifetime))
        let key = PendingLogin.storageKey(for: login.state)
        let expiresAt = login.expiresAt.timeIntervalSince1970
        let cutoff = date.timeIntervalSince1970
        // Clean up now and then rather than on every login: expired rows are already unusable.
        let sweep = Int.random(in: 0..<64) == 0
        let (client, logger) = (self.client, self.logger)
        try await withDeadline(.now + operationTimeout) {
            try await client.query(
                "INSERT INTO gatehouse_login_states (state_key, next, expires_at) VALUES (\(key), \(next), \(expiresAt))",
                logger: logger
            )
            if sweep {
                try await client.query("DELETE FROM gatehouse_login_states WHERE expires_at < \(cutoff)", logger: logger)
            }
        }
        return login
    }

    public func complete(state: String) async throws -> PendingLogin? {
        let key = PendingLogin.storageKey(for: state)
        let (client, logger) = (self.client, self.logger)
        let found = try await withDeadline(.now + operationTimeout) { () -> (String?, Double)? in
            let rows = try await client.query(
                "DELETE FROM gatehouse_login_states WHERE state_key = \(key) RETURNING next, expires_at",
                logger: logger
            )
            for try await row in rows.decode((String?, Double).self) {
                return row
            }
            return nil
        }
        guard let (next, expiresAt) = found, expiresAt > now().timeIntervalSince1970 else { return nil }
        return PendingLogin(state: state, next: next, expiresAt: Date(timeIntervalSince1970: expiresAt))
    }
}
