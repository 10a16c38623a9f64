import Logging
import PostgresNIO

/// The PostgreSQL schema Gatehouse's stores share, one version after another; the one-row table
/// `gatehouse_schema_version` says which one the database has.
///
/// Migrating runs in one transaction under one advisory lock (so instances starting together do
/// not race) and within a deadline (so a database that is down cannot hold the start-up for ever).
///
/// - 1: the sessions table of the first release (databases of that release have no version row
///   and take version 1 as it is: every statement of it is `IF NOT EXISTS`).
/// - 2: `user_key` on sessions (the HMAC of the user id; rows of version 1 get theirs at their
///   next revalidation) and `gatehouse_spent_login_states`, the login states already used.
///   `sealed_token` holds a credential set from this version on, and still reads the bare
///   tokens of version 1. The first release's `gatehouse_login_states` is no longer used; it is
///   left in place so instances of that release keep working during a rolling upgrade.
enum PostgresSchema {
    /// An arbitrary, fixed advisory-lock id shared by all of Gatehouse's schema changes.
    static let lock: Int64 = 0x6761_7465_686F_7573  // "gatehous"

    static let versions: [[String]] = [
        [
            """
            CREATE TABLE IF NOT EXISTS gatehouse_sessions (
                key BYTEA PRIMARY KEY,
                sealed_token BYTEA NOT NULL,
                sealed_profile BYTEA NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                last_seen_at DOUBLE PRECISION NOT NULL,
                validated_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS gatehouse_sessions_last_seen ON gatehouse_sessions (last_seen_at)",
            "CREATE INDEX IF NOT EXISTS gatehouse_sessions_created ON gatehouse_sessions (created_at)",
        ],
        [
            "ALTER TABLE gatehouse_sessions ADD COLUMN IF NOT EXISTS user_key BYTEA",
            "CREATE INDEX IF NOT EXISTS gatehouse_sessions_user ON gatehouse_sessions (user_key)",
            """
            CREATE TABLE IF NOT EXISTS gatehouse_spent_login_states (
                state_key BYTEA PRIMARY KEY,
                expires_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS gatehouse_spent_login_states_expiry ON gatehouse_spent_login_states (expires_at)",
        ],
    ]

    /// The version this release writes.
    static var current: Int { versions.count }

    /// Applies the versions the database lacks.
    static func migrate(client: PostgresClient, timeout: Duration, logger: Logger) async throws {
        try await withDeadline(.now + timeout) {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(lock))", logger: logger)
                try await connection.query("CREATE TABLE IF NOT EXISTS gatehouse_schema_version (version INTEGER NOT NULL)", logger: logger)
                var found = 0
                for try await version in try await connection.query("SELECT max(version) FROM gatehouse_schema_version", logger: logger)
                    .decode(Int?.self)
                {
                    found = version ?? 0
                }
                if found > current {
                    throw SchemaError(description: "the session database has schema version \(found), newer than this release's \(current); upgrade Gatehouse")
                }
                guard found < current else { return }
                for statement in versions[found...].joined() {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("DELETE FROM gatehouse_schema_version", logger: logger)
                try await connection.query("INSERT INTO gatehouse_schema_version (version) VALUES (\(current))", logger: logger)
            }
        }
    }
}
