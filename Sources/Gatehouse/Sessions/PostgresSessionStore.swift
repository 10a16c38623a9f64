import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// Sessions in PostgreSQL, shared by every gateway instance that points at the same database:
/// a logout on one instance ends the session on all of them at once, and the last-validated time
/// lives in the shared row, so instances agree on when to ask the provider again.
///
/// Rows are the same ``SealedSessionRecord``s as in SQLite: hashed ids, sealed credentials and
/// profile. Every instance must use the same `sessions.encryptionKey`. The `PostgresClient` (a
/// connection pool) must run in the application's service group; ``migrate()`` brings the schema
/// up to date (``PostgresSchema``) under an advisory lock, so instances starting together do not race.
public final class PostgresSessionStore: SessionStore {
    private let client: PostgresClient
    private let keys: SessionKeys
    private let logger: Logger
    /// The longest one store operation may take, waiting for a connection included; the pool
    /// itself would wait for a database that is down for ever.
    private let operationTimeout: Duration

    public init(client: PostgresClient, keys: SessionKeys, operationTimeout: Duration = .seconds(5), logger: Logger) {
        self.client = client
        self.keys = keys
        self.operationTimeout = operationTimeout
        self.logger = logger
    }

    /// Runs one store operation within ``operationTimeout``.
    @discardableResult
    private func bounded<Result: Sendable>(_ operation: @escaping @Sendable () async throws -> Result) async throws -> Result {
        try await withDeadline(.now + operationTimeout, operation: operation)
    }

    /// A pool for `url` (a ``PostgresURL``).
    public static func makeClient(url: String, logger: Logger) throws -> PostgresClient {
        PostgresClient(configuration: try makeClientConfiguration(url: url), backgroundLogger: logger)
    }

    /// The pool configuration `url` describes, TLS as ``PostgresURL`` reads it.
    public static func makeClientConfiguration(url: String) throws(PostgresURL.Problem) -> PostgresClient.Configuration {
        let parsed = try PostgresURL(url)
        var configuration = PostgresClient.Configuration(
            host: parsed.host,
            port: parsed.port,
            username: parsed.user,
            password: parsed.password,
            database: parsed.database,
            tls: try parsed.tls()
        )
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.maximumConnections = 16
        return configuration
    }

    /// Brings the schema up to date (every table of Gatehouse's); safe when several instances start at once.
    public func migrate() async throws {
        try await PostgresSchema.migrate(client: client, timeout: operationTimeout * 2, logger: logger)
    }

    /// The database server's time now: every instance on this database stamps sessions by it (``DatabaseClock``).
    public func serverTime() async throws -> Date {
        let (client, logger) = (self.client, self.logger)
        return try await bounded {
            let rows = try await client.query("SELECT extract(epoch FROM clock_timestamp())::float8", logger: logger)
            for try await seconds in rows.decode(Double.self) {
                return Date(timeIntervalSince1970: seconds)
            }
            throw ServerTimeMissing()
        }
    }

    /// The server answered the time query with no row.
    struct ServerTimeMissing: Error {}

    // MARK: - SessionStore

    public func insert(_ session: Session) async throws {
        let record = try SealedSessionRecord(sealing: session, with: keys)
        let userKey = record.userKey?.digest
        let (client, logger) = (self.client, self.logger)
        try await bounded {
            try await client.query(
                """
                INSERT INTO gatehouse_sessions (key, sealed_token, sealed_profile, created_at, last_seen_at, validated_at, user_key)
                VALUES (\(record.key.digest), \(record.sealedCredentials), \(record.sealedProfile), \(record.createdAt), \(record.lastSeenAt),
                    \(record.validatedAt), \(userKey))
                """,
                logger: logger
            )
        }
    }

    public func session(for key: SessionKey) async throws -> Session? {
        let (client, logger) = (self.client, self.logger)
        let record = try await bounded { () -> SealedSessionRecord? in
            let rows = try await client.query(
                "SELECT sealed_token, sealed_profile, created_at, last_seen_at, validated_at, user_key FROM gatehouse_sessions WHERE key = \(key.digest)",
                logger: logger
            )
            for try await (credentials, profile, createdAt, lastSeenAt, validatedAt, userKey) in rows.decode(
                (Data, Data, Double, Double, Double, Data?).self
            ) {
                return SealedSessionRecord(
                    key: key,
                    sealedCredentials: credentials,
                    sealedProfile: profile,
                    createdAt: createdAt,
                    lastSeenAt: lastSeenAt,
                    validatedAt: validatedAt,
                    userKey: userKey.map(UserKey.init(digest:))
                )
            }
            return nil
        }
        guard let record else { return nil }
        do {
            return try record.unsealed(with: keys.sealer)
        } catch {
            logger.warning("A stored session could not be unsealed and was removed; do all instances use the same sessions.encryptionKey?")
            try await delete(key)
            return nil
        }
    }

    public func recordActivity(for key: SessionKey, at date: Date) async throws {
        let (client, logger) = (self.client, self.logger)
        try await bounded {
            try await client.query(
                "UPDATE gatehouse_sessions SET last_seen_at = GREATEST(last_seen_at, \(date.timeIntervalSince1970)) WHERE key = \(key.digest)",
                logger: logger
            )
        }
    }

    public func recordValidation(_ validation: ValidationRecord) async throws {
        let key = validation.key
        let createdAt = validation.createdAt.timeIntervalSince1970
        let sealedProfile = try validation.profile.map { try SealedSessionRecord.sealProfile($0, for: key, createdAt: createdAt, with: keys.sealer) }
        let sealedCredentials = try validation.credentials.map {
            try SealedSessionRecord.sealCredentials($0, for: key, createdAt: createdAt, with: keys.sealer)
        }
        let (date, userKey) = (validation.date.timeIntervalSince1970, keys.userKey(for: validation.userID).digest)
        let future = date + SessionManager.futureTolerance
        let (client, logger) = (self.client, self.logger)
        try await bounded {
            // One statement: a rotated refresh token replaces the old one with the time, or not at all.
            // Later times win over earlier ones, except a stored time in the future, which is replaced.
            try await client.query(
                """
                UPDATE gatehouse_sessions SET validated_at = CASE WHEN validated_at > \(future) THEN \(date) ELSE GREATEST(validated_at, \(date)) END,
                    user_key = COALESCE(user_key, \(userKey)),
                    sealed_profile = COALESCE(\(sealedProfile), sealed_profile), sealed_token = COALESCE(\(sealedCredentials), sealed_token)
                WHERE key = \(key.digest)
                """,
                logger: logger
            )
        }
    }

    public func delete(_ key: SessionKey) async throws {
        let (client, logger) = (self.client, self.logger)
        try await bounded {
            try await client.query("DELETE FROM gatehouse_sessions WHERE key = \(key.digest)", logger: logger)
        }
    }

    public func deleteExpired(idleCutoff: Date, createdCutoff: Date) async throws -> Int {
        let (client, logger) = (self.client, self.logger)
        return try await bounded {
            let rows = try await client.query(
                """
                DELETE FROM gatehouse_sessions
                WHERE last_seen_at < \(idleCutoff.timeIntervalSince1970) OR created_at < \(createdCutoff.timeIntervalSince1970)
                RETURNING 1
                """,
                logger: logger
            )
            var removed = 0
            for try await _ in rows { removed += 1 }
            return removed
        }
    }

    public func countLive(idleCutoff: Date, createdCutoff: Date) async throws -> Int {
        let (client, logger) = (self.client, self.logger)
        return try await bounded {
            let rows = try await client.query(
                """
                SELECT count(*) FROM gatehouse_sessions
                WHERE last_seen_at > \(idleCutoff.timeIntervalSince1970) AND created_at > \(createdCutoff.timeIntervalSince1970)
                """,
                logger: logger
            )
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }

    public func deleteSessions(ofUser userID: String) async throws -> Int {
        let (client, logger, keys) = (self.client, self.logger, self.keys)
        let userKey = keys.userKey(for: userID).digest
        return try await bounded {
            // Rows written before user keys existed get theirs first, from their sealed profile.
            let missing = try await client.query("SELECT key, sealed_profile, created_at FROM gatehouse_sessions WHERE user_key IS NULL", logger: logger)
            var filled: [(Data, Data)] = []
            for try await (key, sealed, createdAt) in missing.decode((Data, Data, Double).self) {
                if let found = SealedSessionRecord.userKey(ofSealedProfile: sealed, for: SessionKey(digest: key), createdAt: createdAt, with: keys) {
                    filled.append((key, found.digest))
                }
            }
            for (key, found) in filled {
                try await client.query("UPDATE gatehouse_sessions SET user_key = \(found) WHERE key = \(key) AND user_key IS NULL", logger: logger)
            }
            let rows = try await client.query("DELETE FROM gatehouse_sessions WHERE user_key = \(userKey) RETURNING 1", logger: logger)
            var removed = 0
            for try await _ in rows { removed += 1 }
            return removed
        }
    }

    public func opensStoredSessions() async throws -> Bool {
        let (client, logger, keys) = (self.client, self.logger, self.keys)
        return try await bounded {
            let rows = try await client.query("SELECT key, sealed_profile, created_at FROM gatehouse_sessions ORDER BY created_at DESC LIMIT 5", logger: logger)
            var samples: [(Data, Data, Double)] = []
            for try await sample in rows.decode((Data, Data, Double).self) { samples.append(sample) }
            return SealedSessionRecord.anyOpens(samples, with: keys)
        }
    }

    public func statistics(idleCutoff: Date, createdCutoff: Date) async throws -> SessionStatistics {
        let (client, logger) = (self.client, self.logger)
        let (idle, created) = (idleCutoff.timeIntervalSince1970, createdCutoff.timeIntervalSince1970)
        return try await bounded {
            let rows = try await client.query(
                """
                SELECT count(*), count(*) FILTER (WHERE last_seen_at > \(idle) AND created_at > \(created)),
                    count(DISTINCT user_key) FILTER (WHERE last_seen_at > \(idle) AND created_at > \(created))
                FROM gatehouse_sessions
                """,
                logger: logger
            )
            for try await (stored, live, users) in rows.decode((Int, Int, Int).self) {
                return SessionStatistics(stored: stored, live: live, liveUsers: users)
            }
            return SessionStatistics(stored: 0, live: 0, liveUsers: 0)
        }
    }

    public func checkHealth() async throws {
        let (client, logger) = (self.client, self.logger)
        try await bounded {
            try await client.query("SELECT 1", logger: logger)
        }
    }
}
