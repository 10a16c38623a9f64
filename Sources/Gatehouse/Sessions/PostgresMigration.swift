import Logging
import PostgresNIO

/// Applies schema statements the way every Gatehouse PostgreSQL store needs: in one transaction,
/// under one advisory lock (so instances starting together do not race), within a deadline (so a
/// database that is down cannot hold the start-up for ever).
enum PostgresMigration {
    /// An arbitrary, fixed advisory-lock id shared by all of Gatehouse's schema changes.
    static let lock: Int64 = 0x6761_7465_686F_7573  // "gatehous"

    /// Runs `statements` (idempotent DDL such as `CREATE TABLE IF NOT EXISTS`).
    static func apply(_ statements: [String], client: PostgresClient, timeout: Duration, logger: Logger) async throws {
        try await withDeadline(.now + timeout) {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(lock))", logger: logger)
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
        }
    }
}
