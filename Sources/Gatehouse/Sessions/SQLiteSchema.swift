import SQLiteNIO

/// The SQLite store's schema, one version after another; `PRAGMA user_version` says which one a
/// file has. Opening a file applies the versions it lacks, each in a transaction of its own.
///
/// - 1: the sessions table of the first release (files of that release read as version 0 and
///   take version 1 as it is: every statement of it is `IF NOT EXISTS`).
/// - 2: `user_key`, the HMAC of the user id, so a user's sessions can be found; rows of
///   version 1 get theirs at their next revalidation. `sealed_token` holds a credential set
///   from this version on, and still reads the bare tokens of version 1.
enum SQLiteSchema {
    static let versions: [[String]] = [
        [
            """
            CREATE TABLE IF NOT EXISTS gatehouse_sessions (
                key BLOB PRIMARY KEY NOT NULL,
                sealed_token BLOB NOT NULL,
                sealed_profile BLOB NOT NULL,
                created_at REAL NOT NULL,
                last_seen_at REAL NOT NULL,
                validated_at REAL NOT NULL
            ) WITHOUT ROWID
            """,
            "CREATE INDEX IF NOT EXISTS gatehouse_sessions_last_seen ON gatehouse_sessions (last_seen_at)",
            "CREATE INDEX IF NOT EXISTS gatehouse_sessions_created ON gatehouse_sessions (created_at)",
        ],
        [
            "ALTER TABLE gatehouse_sessions ADD COLUMN user_key BLOB",
            "CREATE INDEX IF NOT EXISTS gatehouse_sessions_user ON gatehouse_sessions (user_key)",
        ],
    ]

    /// The version this release writes.
    static var current: Int { versions.count }

    /// Sets the connection up and applies the versions the file lacks.
    static func migrate(_ connection: SQLiteConnection) async throws {
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA busy_timeout = 5000", "PRAGMA synchronous = NORMAL"] {
            _ = try await connection.query(pragma)
        }
        let found = try await version(of: connection)
        guard found < current else {
            if found > current {
                throw SchemaError(description: "the session database has schema version \(found), newer than this release's \(current); upgrade Gatehouse")
            }
            return
        }
        for version in (found + 1)...current {
            _ = try await connection.query("BEGIN IMMEDIATE")
            do {
                for statement in versions[version - 1] {
                    _ = try await connection.query(statement)
                }
                _ = try await connection.query("PRAGMA user_version = \(version)")
                _ = try await connection.query("COMMIT")
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw error
            }
        }
    }

    static func version(of connection: SQLiteConnection) async throws -> Int {
        try await connection.query("PRAGMA user_version").first?.column("user_version")?.integer ?? 0
    }
}

/// A session database this release cannot use as it is.
public struct SchemaError: Error, CustomStringConvertible {
    public let description: String
}
