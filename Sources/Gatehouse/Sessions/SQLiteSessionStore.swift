import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import SQLiteNIO
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Sessions in a SQLite file: the default store, survives restarts, one gateway per file.
///
/// Rows are keyed by the SHA-256 of the session id; credentials and profile are sealed with
/// ``SessionSealer``. The database runs in WAL mode with a busy timeout, and its schema is
/// versioned (``SQLiteSchema``): a file made by an earlier release is migrated when opened. As a
/// `Service`, the store closes its connection when graceful shutdown begins.
public final class SQLiteSessionStore: SessionStore, Service {
    private let connection: SQLiteConnection
    private let keys: SessionKeys
    private let logger: Logger

    private init(connection: SQLiteConnection, keys: SessionKeys, logger: Logger) {
        self.connection = connection
        self.keys = keys
        self.logger = logger
    }

    /// Opens (or creates) the database at `path`. A new file is made with mode 0600 before SQLite
    /// opens it; SQLite gives its `-wal` and `-shm` files the same mode. The schema is brought up to date.
    public static func open(path: String, keys: SessionKeys, logger: Logger) async throws -> SQLiteSessionStore {
        let created = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if created >= 0 { Glibc.close(created) }
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            try await SQLiteSchema.migrate(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        return SQLiteSessionStore(connection: connection, keys: keys, logger: logger)
    }

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
        let record = try SealedSessionRecord(sealing: session, with: keys)
        _ = try await connection.query(
            """
            INSERT INTO gatehouse_sessions (key, sealed_token, sealed_profile, created_at, last_seen_at, validated_at, user_key)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .blob(ByteBuffer(data: record.key.digest)), .blob(ByteBuffer(data: record.sealedCredentials)),
                .blob(ByteBuffer(data: record.sealedProfile)), .float(record.createdAt), .float(record.lastSeenAt), .float(record.validatedAt),
                record.userKey.map { .blob(ByteBuffer(data: $0.digest)) } ?? .null,
            ]
        )
    }

    public func session(for key: SessionKey) async throws -> Session? {
        let rows = try await connection.query(
            "SELECT sealed_token, sealed_profile, created_at, last_seen_at, validated_at, user_key FROM gatehouse_sessions WHERE key = ?",
            [.blob(ByteBuffer(data: key.digest))]
        )
        guard let row = rows.first else { return nil }
        guard let sealedCredentials = row.column("sealed_token")?.blob, let sealedProfile = row.column("sealed_profile")?.blob,
            let createdAt = row.column("created_at")?.double, let lastSeenAt = row.column("last_seen_at")?.double,
            let validatedAt = row.column("validated_at")?.double
        else {
            logger.error("A session row has an unexpected shape; treating it as no session")
            return nil
        }
        let record = SealedSessionRecord(
            key: key,
            sealedCredentials: Data(buffer: sealedCredentials),
            sealedProfile: Data(buffer: sealedProfile),
            createdAt: createdAt,
            lastSeenAt: lastSeenAt,
            validatedAt: validatedAt,
            userKey: row.column("user_key")?.blob.map { UserKey(digest: Data(buffer: $0)) }
        )
        do {
            return try record.unsealed(with: keys.sealer)
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

    public func recordValidation(_ validation: ValidationRecord) async throws {
        let key = validation.key
        // Later times win over earlier ones, except a stored time in the future, which is replaced.
        var assignments = ["validated_at = CASE WHEN validated_at > ? THEN ? ELSE MAX(validated_at, ?) END", "user_key = COALESCE(user_key, ?)"]
        let date = validation.date.timeIntervalSince1970
        var bindings: [SQLiteData] = [
            .float(date + SessionManager.futureTolerance), .float(date), .float(date),
            .blob(ByteBuffer(data: keys.userKey(for: validation.userID).digest)),
        ]
        if let profile = validation.profile {
            assignments.append("sealed_profile = ?")
            bindings.append(
                .blob(
                    ByteBuffer(
                        data: try SealedSessionRecord.sealProfile(profile, for: key, createdAt: validation.createdAt.timeIntervalSince1970, with: keys.sealer)
                    )
                )
            )
        }
        if let credentials = validation.credentials {
            assignments.append("sealed_token = ?")
            bindings.append(
                .blob(
                    ByteBuffer(
                        data: try SealedSessionRecord.sealCredentials(
                            credentials,
                            for: key,
                            createdAt: validation.createdAt.timeIntervalSince1970,
                            with: keys.sealer
                        )
                    )
                )
            )
        }
        bindings.append(.blob(ByteBuffer(data: key.digest)))
        _ = try await connection.query("UPDATE gatehouse_sessions SET \(assignments.joined(separator: ", ")) WHERE key = ?", bindings)
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

    public func deleteSessions(ofUser userID: String) async throws -> Int {
        try await fillMissingUserKeys()
        let rows = try await connection.query(
            "DELETE FROM gatehouse_sessions WHERE user_key = ? RETURNING key",
            [.blob(ByteBuffer(data: keys.userKey(for: userID).digest))]
        )
        return rows.count
    }

    /// Gives rows written before user keys existed their key, from their sealed profile.
    private func fillMissingUserKeys() async throws {
        let rows = try await connection.query("SELECT key, sealed_profile, created_at FROM gatehouse_sessions WHERE user_key IS NULL")
        for row in rows {
            guard let key = row.column("key")?.blob, let sealed = row.column("sealed_profile")?.blob, let createdAt = row.column("created_at")?.double else {
                continue
            }
            let sessionKey = SessionKey(digest: Data(buffer: key))
            guard let userKey = SealedSessionRecord.userKey(ofSealedProfile: Data(buffer: sealed), for: sessionKey, createdAt: createdAt, with: keys) else {
                continue
            }
            _ = try await connection.query(
                "UPDATE gatehouse_sessions SET user_key = ? WHERE key = ?",
                [.blob(ByteBuffer(data: userKey.digest)), .blob(key)]
            )
        }
    }

    public func statistics(idleCutoff: Date, createdCutoff: Date) async throws -> SessionStatistics {
        let rows = try await connection.query(
            """
            SELECT count(*) AS stored,
                count(*) FILTER (WHERE last_seen_at > ?1 AND created_at > ?2) AS live,
                count(DISTINCT user_key) FILTER (WHERE last_seen_at > ?1 AND created_at > ?2) AS users
            FROM gatehouse_sessions
            """,
            [.float(idleCutoff.timeIntervalSince1970), .float(createdCutoff.timeIntervalSince1970)]
        )
        let row = rows.first
        return SessionStatistics(
            stored: row?.column("stored")?.integer ?? 0,
            live: row?.column("live")?.integer ?? 0,
            liveUsers: row?.column("users")?.integer ?? 0
        )
    }

    public func checkHealth() async throws {
        _ = try await connection.query("SELECT 1")
    }

    /// SQLite's count of commits to the file by connections other than this store's
    /// (`PRAGMA data_version`): when it moves, another process wrote.
    public func dataVersion() async throws -> Int {
        let rows = try await connection.query("PRAGMA data_version")
        return rows.first?.column("data_version")?.integer ?? 0
    }

    public func opensStoredSessions() async throws -> Bool {
        let rows = try await connection.query("SELECT key, sealed_profile, created_at FROM gatehouse_sessions ORDER BY created_at DESC LIMIT 5")
        let samples = rows.compactMap { row -> (Data, Data, Double)? in
            guard let key = row.column("key")?.blob, let sealed = row.column("sealed_profile")?.blob, let createdAt = row.column("created_at")?.double else {
                return nil
            }
            return (Data(buffer: key), Data(buffer: sealed), createdAt)
        }
        return SealedSessionRecord.anyOpens(samples, with: keys)
    }
}
