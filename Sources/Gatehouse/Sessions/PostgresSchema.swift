import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL schema Gatehouse's stores share, one version after another; the one-row table
/// `gatehouse_schema_version` says which one the database has.
///
/// Migrating runs in one transaction under an advisory lock for the schema it migrates (so
/// instances starting together do not race, and deployments in other schemas do not wait) and
/// within a deadline (so a database that is down cannot hold the start-up for ever). A database
/// already at the current version is recognised without the lock, and the statements a migration
/// runs go in one round trip, so the lock is held as briefly as the database allows.
///
/// - 1: the sessions table of the first release (databases of that release have no version row
///   and take version 1 as it is: every statement of it is `IF NOT EXISTS`).
/// - 2: `user_key` on sessions (the HMAC of the user id; rows of version 1 get theirs at their
///   next revalidation) and `gatehouse_spent_login_states`, the login states already used.
///   `sealed_token` holds a credential set from this version on, and still reads the bare
///   tokens of version 1. The first release's `gatehouse_login_states` is no longer used; it is
///   left in place so instances of that release keep working during a rolling upgrade.
/// - 3: a trigger that announces, on ``PostgresSessionChanges/channel``, every session deleted or
///   whose sealed credentials or profile changed, so every instance drops it from its cache: the
///   schema, a colon, and the keys in hex (comma-separated, at most 100 to a notification; more
///   in one statement announce `*`). Deployments in other schemas of the database ignore it.
///   Deletions are announced per statement (a sweep is one notification); changes per row, by a
///   trigger that fires only when a statement sets a sealed column, and runs only when it changed,
///   so activity and validation-time writes cost nothing extra.
///   Changes of only the activity or validation times are not announced: a cache that holds older
///   ones revalidates sooner and rereads the store before it ends a session.
enum PostgresSchema {
    /// An arbitrary, fixed advisory-lock id for Gatehouse's schema changes, paired with a hash of the
    /// schema being changed.
    static let lock: Int32 = 0x6761_7465  // "gate"

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
        [
            """
            CREATE OR REPLACE FUNCTION gatehouse_sessions_announce_deleted() RETURNS trigger LANGUAGE plpgsql AS $announce$
            DECLARE
                gone_keys BYTEA[];
            BEGIN
                SELECT array_agg(key) INTO gone_keys FROM gone;
                IF gone_keys IS NULL THEN
                    RETURN NULL;
                ELSIF cardinality(gone_keys) > 100 THEN
                    PERFORM pg_notify('gatehouse_sessions', current_schema() || ':*');
                ELSE
                    PERFORM pg_notify('gatehouse_sessions', current_schema() || ':' || string_agg(encode(key, 'hex'), ',')) FROM unnest(gone_keys) AS key;
                END IF;
                RETURN NULL;
            END
            $announce$
            """,
            """
            CREATE OR REPLACE FUNCTION gatehouse_sessions_announce_changed() RETURNS trigger LANGUAGE plpgsql AS $announce$
            BEGIN
                PERFORM pg_notify('gatehouse_sessions', current_schema() || ':' || encode(NEW.key, 'hex'));
                RETURN NULL;
            END
            $announce$
            """,
            "DROP TRIGGER IF EXISTS gatehouse_sessions_deleted ON gatehouse_sessions",
            """
            CREATE TRIGGER gatehouse_sessions_deleted AFTER DELETE ON gatehouse_sessions
            REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_sessions_announce_deleted()
            """,
            "DROP TRIGGER IF EXISTS gatehouse_sessions_changed ON gatehouse_sessions",
            """
            CREATE TRIGGER gatehouse_sessions_changed AFTER UPDATE OF sealed_token, sealed_profile ON gatehouse_sessions
            FOR EACH ROW WHEN (OLD.sealed_token IS DISTINCT FROM NEW.sealed_token OR OLD.sealed_profile IS DISTINCT FROM NEW.sealed_profile)
            EXECUTE FUNCTION gatehouse_sessions_announce_changed()
            """,
        ],
    ]

    /// The version this release writes.
    static var current: Int { versions.count }

    /// Applies the versions the database lacks.
    static func migrate(client: PostgresClient, timeout: Duration, logger: Logger) async throws {
        try await withDeadline(.now + timeout) {
            if try await client.withConnection({ try await recordedVersion(connection: $0, logger: logger) }) == current { return }
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(lock), hashtext(current_schema()))", logger: logger)
                try await connection.query("CREATE TABLE IF NOT EXISTS gatehouse_schema_version (version INTEGER NOT NULL)", logger: logger)
                let found = try await recordedVersion(connection: connection, logger: logger)
                if found > current {
                    throw SchemaError(description: "the session database has schema version \(found), newer than this release's \(current); upgrade Gatehouse")
                }
                guard found < current else { return }
                let statements =
                    versions[found...].joined() + [
                        "DELETE FROM gatehouse_schema_version", "INSERT INTO gatehouse_schema_version (version) VALUES (\(current))",
                    ]
                // One round trip for every statement: DDL runs inside a DO block as it would alone.
                let block = statements.map { "EXECUTE \(quoted($0));" }.joined(separator: "\n")
                try await connection.query(PostgresQuery(unsafeSQL: "DO $migration$ BEGIN\n\(block)\nEND $migration$"), logger: logger)
            }
        }
    }

    /// The version the database records: 0 without a version table (a new database, or one of the
    /// first release) or a version in it.
    private static func recordedVersion(connection: PostgresConnection, logger: Logger) async throws -> Int {
        for try await exists in try await connection.query("SELECT to_regclass('gatehouse_schema_version') IS NOT NULL", logger: logger).decode(Bool.self)
        where !exists {
            return 0
        }
        for try await version in try await connection.query("SELECT max(version) FROM gatehouse_schema_version", logger: logger).decode(Int?.self) {
            return version ?? 0
        }
        return 0
    }

    /// `text` as a PostgreSQL string literal.
    private static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
