import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import SQLiteNIO
import ServiceLifecycle

/// Sessions in a SQLite file: the default store, survives restarts, one gateway per file.
///
/// Rows are keyed by the SHA-256 of the session id; token and profile are sealed with
/// ``SessionSealer``. The database runs in WAL mode with a busy timeout. As a `Service`, the store
/// closes its connection when graceful shutdown begins.
public final class SQLiteSessionStore: SessionStore, Service {
    private let connection: SQLiteConnection
    private let sealer: SessionSealer
    private let logger: Logger

    private init(connection: SQLiteConnection, sealer: SessionSealer, logger: Logger) {
        self.connection = connection
        self.sealer = sealer
        self.logger = logger
    }

    /// Opens (creating if needed) the database at `path` and its schema.
    public static func open(path: String, sealer: SessionSealer, logger: Logger) async throws -> SQLiteSessionStore {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            for statement in schema {
                _ = try await connection.query(statement)
            }
        } catch {
            try? await connection.close()
            throw error
        }
        return SQLiteSessionStore(connection: connection, sealer: sealer, logger: logger)
    }

    static let schema = [
        "PRAGMA journal_mode = WAL",
        "PRAGMA busy_timeout = 5000",
        "PRAGMA synchronous = NORMAL",
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
    ]

    public func run() async throws {
        try? await gracefulShutdown()
        try await close()
    }

    /// Closes the database connection; the store cannot be used afterwards.
    public func close() async throws {
        try await connection.close()
    }

    // MARK: - SessionStore

    public func insert(_ session: Session) async throws {
        let record = try SealedSessionRecord(sealing: session, with: sealer)
        _ = try await connection.query(
            """
            INSERT INTO gatehouse_sessions (key, sealed_token, sealed_profile, created_at, last_seen_at, validated_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            [
                .blob(ByteBuffer(data: record.key.digest)), .blob(ByteBuffer(data: record.sealedToken)),
                .blob(ByteBuffer(data: record.sealedProfile)), .float(record.createdAt), .float(record.lastSeenAt), .float(record.validatedAt),
            ]
        )
    }

    public func session(for key: SessionKey) async throws -> Session? {
        let rows = try await connection.query(
            "SELECT sealed_token, sealed_profile, created_at, last_seen_at, validated_at FROM gatehouse_sessions WHERE key = ?",
            [.blob(ByteBuffer(data: key.digest))]
        )
        guard let row = rows.first else { return nil }
        guard let sealedToken = row.column("sealed_token")?.blob, let sealedProfile = row.column("sealed_profile")?.blob,
            let createdAt = row.column("created_at")?.double, let lastSeenAt = row.column("last_seen_at")?.double,
            let validatedAt = row.column("validated_at")?.double
        else {
            logger.error("A session row has an unexpected shape; treating it as no session")
            return nil
        }
        let record = SealedSessionRecord(
            key: key,
            sealedToken: Data(buffer: sealedToken),
            sealedProfile: Data(buffer: sealedProfile),
            createdAt: createdAt,
            lastSeenAt: lastSeenAt,
            validatedAt: validatedAt
        )
        do {
            return try record.unsealed(with: sealer)
        } catch {
            // Sealed with another key (the key was replaced) or altered on disk: unusable.
            logger.warning("A stored session could not be unsealed and was removed; was the session key changed?")
            try await delete(key)
            return nil
        }
    }

    public func recordActivity(for key: SessionKey, at date: Date) async throws {
        _ = try await connection.query(
            "UPDATE gatehouse_sessions SET last_seen_at = MAX(last_seen_at, ?) WHERE key = ?",
            [.float(date.timeIntervalSince1970), .blob(ByteBuffer(data: key.digest))]
        )
    }

    public func recordValidation(for key: SessionKey, at date: Date, profile: UserProfile?) async throws {
        guard let profile else {
            _ = try await connection.query(
                "UPDATE gatehouse_sessions SET validated_at = MAX(validated_at, ?) WHERE key = ?",
                [.float(date.timeIntervalSince1970), .blob(ByteBuffer(data: key.digest))]
            )
            return
        }
        let sealedProfile = try SealedSessionRecord.sealProfile(profile, for: key, with: sealer)
        _ = try await connection.query(
            "UPDATE gatehouse_sessions SET validated_at = MAX(validated_at, ?), sealed_profile = ? WHERE key = ?",
            [.float(date.timeIntervalSince1970), .blob(ByteBuffer(data: sealedProfile)), .blob(ByteBuffer(data: key.digest))]
        )
    }

    public func delete(_ key: SessionKey) async throws {
        _ = try await connection.query("DELETE FROM gatehouse_sessions WHERE key = ?", [.blob(ByteBuffer(data: key.digest))])
    }

    public func deleteExpired(idleCutoff: Date, createdCutoff: Date) async throws -> Int {
        let rows = try await connection.query(
            "DELETE FROM gatehouse_sessions WHERE last_seen_at < ? OR created_at < ? RETURNING key",
            [.float(idleCutoff.timeIntervalSince1970), .float(createdCutoff.timeIntervalSince1970)]
        )
        return rows.count
    }

    public func countLive(idleCutoff: Date, createdCutoff: Date) async throws -> Int {
        let rows = try await connection.query(
            "SELECT count(*) AS live FROM gatehouse_sessions WHERE last_seen_at > ? AND created_at > ?",
            [.float(idleCutoff.timeIntervalSince1970), .float(createdCutoff.timeIntervalSince1970)]
        )
        return rows.first?.column("live")?.integer ?? 0
    }

    public func checkHealth() async throws {
        _ = try await connection.query("SELECT 1")
    }
}
