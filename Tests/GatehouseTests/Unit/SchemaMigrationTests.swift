import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import PostgresNIO
import SQLiteNIO
import Testing

@testable import Gatehouse

/// Databases made by the first release's schema (its exact DDL and row encoding) are migrated when
/// opened, and the sessions in them keep working.
@Suite("Schema migrations", .timeLimit(.minutes(1)))
struct SchemaMigrationTests {
    static let keys = try! SessionKeys(keyBytes: Data(repeating: 4, count: 32))
    static let profile = UserProfile(id: "u-old", email: "old@example.com", name: "Old Row", attributes: ["Uid": .string("u-old")])

    /// A row as the first release wrote it: the bare token sealed, the profile sealed, no user key.
    static func firstReleaseRow() throws -> (id: SessionID, token: Data, profile: Data, time: Double) {
        let id = SessionID.generate()
        let token = try keys.sealer.sealFirstRelease(Data("token-from-release-1".utf8), for: id.storageKey)
        let profile = try keys.sealer.sealFirstRelease(Self.profile.storedRepresentation, for: id.storageKey)
        return (id, token, profile, Date().timeIntervalSince1970)
    }

    @Test("a SQLite file of the first release is migrated to the current version, and its session still reads and revalidates")
    func sqliteFirstRelease() async throws {
        let directory = try TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("release-1.sqlite").path
        let row = try Self.firstReleaseRow()

        // The first release's file: its DDL, word for word, and one session.
        let old = try await SQLiteConnection.open(storage: .file(path: path))
        for statement in [
            "PRAGMA journal_mode = WAL",
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
        ] {
            _ = try await old.query(statement)
        }
        _ = try await old.query(
            "INSERT INTO gatehouse_sessions VALUES (?, ?, ?, ?, ?, ?)",
            [
                .blob(ByteBuffer(data: row.id.storageKey.digest)), .blob(ByteBuffer(data: row.token)), .blob(ByteBuffer(data: row.profile)),
                .float(row.time), .float(row.time), .float(row.time),
            ]
        )
        #expect(try await SQLiteSchema.version(of: old) == 0)
        try await old.close()

        let store = try await SQLiteSessionStore.open(path: path, keys: Self.keys, logger: Logger(label: "test"))
        let session = try #require(try await store.session(for: row.id.storageKey))
        #expect(session.credentials == Credentials(accessToken: AccessToken("token-from-release-1")))
        #expect(session.profile == Self.profile)

        // A revalidation writes the new encoding and the user key into the old row.
        let rotated = Credentials(accessToken: AccessToken("access-2"), refreshToken: RefreshToken("refresh-2"))
        try await store.recordValidation(
            .init(key: session.key, date: Date(), createdAt: session.createdAt, userID: "u-old", profile: nil, credentials: rotated)
        )
        #expect(try await store.session(for: row.id.storageKey)?.credentials == rotated)
        try await store.close()

        let check = try await SQLiteConnection.open(storage: .file(path: path))
        #expect(try await SQLiteSchema.version(of: check) == SQLiteSchema.current)
        let userKey = try await check.query("SELECT user_key FROM gatehouse_sessions").first?.column("user_key")?.blob
        #expect(userKey.map { Data(buffer: $0) } == Self.keys.userKey(for: "u-old").digest)
        try await check.close()

        // Opening again changes nothing.
        let reopened = try await SQLiteSessionStore.open(path: path, keys: Self.keys, logger: Logger(label: "test"))
        #expect(try await reopened.session(for: row.id.storageKey)?.credentials == rotated)
        try await reopened.close()
    }

    @Test("a first-release row with no user key is still found by its user: the key comes from its sealed profile")
    func sqliteUserKeyBackfill() async throws {
        let directory = try TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("release-1.sqlite").path
        let store = try await SQLiteSessionStore.open(path: path, keys: Self.keys, logger: Logger(label: "test"))
        try await store.close()
        let row = try Self.firstReleaseRow()
        let old = try await SQLiteConnection.open(storage: .file(path: path))
        _ = try await old.query(
            "INSERT INTO gatehouse_sessions (key, sealed_token, sealed_profile, created_at, last_seen_at, validated_at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                .blob(ByteBuffer(data: row.id.storageKey.digest)), .blob(ByteBuffer(data: row.token)), .blob(ByteBuffer(data: row.profile)),
                .float(row.time), .float(row.time), .float(row.time),
            ]
        )
        try await old.close()
        let reopened = try await SQLiteSessionStore.open(path: path, keys: Self.keys, logger: Logger(label: "test"))
        #expect(try await reopened.deleteSessions(ofUser: "u-old") == 1)
        #expect(try await reopened.session(for: row.id.storageKey) == nil)
        try await reopened.close()
    }

    @Test("a SQLite file from a newer release is refused with a clear error, not misread")
    func sqliteFromTheFuture() async throws {
        let directory = try TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("future.sqlite").path
        let future = try await SQLiteConnection.open(storage: .file(path: path))
        _ = try await future.query("PRAGMA user_version = \(SQLiteSchema.current + 1)")
        try await future.close()
        let error = await #expect(throws: SchemaError.self) {
            try await SQLiteSessionStore.open(path: path, keys: Self.keys, logger: Logger(label: "test"))
        }
        #expect(error?.description.contains("newer") == true)
    }

    @Test(
        "a PostgreSQL database of the first release is migrated, and its session still reads",
        .enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason)
    )
    func postgresFirstRelease() async throws {
        try await PostgresTestDatabase.withIsolatedClient { client in
            let logger = Logger(label: "test")
            let row = try Self.firstReleaseRow()
            // The first release's tables, word for word, and one session.
            for statement in [
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
                "CREATE TABLE IF NOT EXISTS gatehouse_login_states (state_key BYTEA PRIMARY KEY, next TEXT, expires_at DOUBLE PRECISION NOT NULL)",
            ] {
                try await client.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await client.query(
                "INSERT INTO gatehouse_sessions VALUES (\(row.id.storageKey.digest), \(row.token), \(row.profile), \(row.time), \(row.time), \(row.time))",
                logger: logger
            )

            let store = PostgresSessionStore(client: client, keys: Self.keys, logger: logger)
            try await store.migrate()
            let session = try #require(try await store.session(for: row.id.storageKey))
            #expect(session.credentials == Credentials(accessToken: AccessToken("token-from-release-1")))
            #expect(session.profile == Self.profile)
            var version: Int?
            for try await found in try await client.query("SELECT version FROM gatehouse_schema_version", logger: logger).decode(Int.self) {
                version = found
            }
            #expect(version == PostgresSchema.current)
            try await store.migrate()  // again: nothing to do
            #expect(try await store.session(for: row.id.storageKey) != nil)
        }
    }
}
