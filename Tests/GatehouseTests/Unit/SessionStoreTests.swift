import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import PostgresNIO
import SQLiteNIO
import Testing

@testable import Gatehouse

/// The same checks for every store, so each behaves as ``SessionManager`` expects.
@Suite("Session stores", .timeLimit(.minutes(1)))
struct SessionStoreTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case memory, sqlite, postgres
        /// The durable stores behind the cache a gateway puts in front of them.
        case cachedSQLite = "sqlite, cached", cachedPostgres = "postgres, cached"
        var testDescription: String { rawValue }

        /// The stores this run covers: PostgreSQL only when a test database is configured (or required).
        static var available: [Kind] {
            PostgresTestDatabase.enabled ? allCases : [.memory, .sqlite, .cachedSQLite]
        }
    }

    static let keys = try! SessionKeys(keyBytes: Data(repeating: 9, count: 32))
    static var sealer: SessionSealer { keys.sealer }
    static let profile = UserProfile(id: "u1", email: "u1@example.com", name: "User One", attributes: ["Uid": .string("u1")])

    /// Runs `body` with a fresh store of `kind`, closing and removing it afterwards.
    func withStore(_ kind: Kind, _ body: (any SessionStore, URL?) async throws -> Void) async throws {
        switch kind {
        case .memory:
            try await body(MemorySessionStore(), nil)
        case .sqlite:
            let directory = try TestFixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("sessions.sqlite")
            let store = try await SQLiteSessionStore.open(path: path.path, keys: Self.keys, logger: Logger(label: "test"))
            try await body(store, path)
            try await store.close()
        case .cachedSQLite:
            let directory = try TestFixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("sessions.sqlite")
            let store = try await SQLiteSessionStore.open(path: path.path, keys: Self.keys, logger: Logger(label: "test"))
            let watch = try #require(SQLiteWriteWatch(store: store, path: path.path))
            try await body(CachedSessionStore(base: store, cache: SessionCache(), coherence: watch), path)
            try await store.close()
        case .postgres:
            try await PostgresTestDatabase.withIsolatedClient { client in
                // The store's deadline is not what these tests are about: a loaded machine must not reach it.
                let store = PostgresSessionStore(client: client, keys: Self.keys, operationTimeout: .seconds(30), logger: Logger(label: "test"))
                try await store.migrate()
                try await store.migrate()  // idempotent
                try await body(store, nil)
            }
        case .cachedPostgres:
            try await PostgresTestDatabase.withIsolatedClient { client in
                let store = PostgresSessionStore(client: client, keys: Self.keys, operationTimeout: .seconds(30), logger: Logger(label: "test"))
                try await store.migrate()
                try await PostgresTestDatabase.withSessionChanges(client: client) { cache in
                    try await body(CachedSessionStore(base: store, cache: cache), nil)
                }
            }
        }
    }

    func makeSession(at date: Date = Date(timeIntervalSince1970: 1_800_000_000), token: String = "token-abc") -> (SessionID, Session) {
        let id = SessionID.generate()
        let credentials = Credentials(accessToken: AccessToken(token))
        return (id, Session(key: id.storageKey, credentials: credentials, profile: Self.profile, createdAt: date, lastSeenAt: date, validatedAt: date))
    }

    @Test("insert, read, record activity and validation, delete", arguments: Kind.available)
    func lifecycle(_ kind: Kind) async throws {
        try await withStore(kind) { store, _ in
            let (_, session) = makeSession()
            try await store.insert(session)
            #expect(try await store.session(for: session.key) == session)

            let later = session.lastSeenAt.addingTimeInterval(90)
            try await store.recordActivity(for: session.key, at: later)
            #expect(try await store.session(for: session.key)?.lastSeenAt == later)

            let refreshed = UserProfile(
                id: "u1",
                email: "new@example.com",
                name: "Renamed",
                attributes: ["Uid": .string("u1"), "FullName": .string("Renamed")]
            )
            try await store.recordValidation(
                .init(key: session.key, date: later, createdAt: session.createdAt, userID: "u1", profile: refreshed, credentials: nil)
            )
            let read = try await store.session(for: session.key)
            #expect(read?.validatedAt == later)
            #expect(read?.profile == refreshed)
            #expect(read?.credentials == session.credentials)

            // The same profile again: only the time moves.
            let latest = later.addingTimeInterval(60)
            try await store.recordValidation(.init(key: session.key, date: latest, createdAt: session.createdAt, userID: "u1", profile: nil, credentials: nil))
            let reread = try await store.session(for: session.key)
            #expect(reread?.validatedAt == latest)
            #expect(reread?.profile == refreshed)

            // A refresh that rotated the tokens: the new set replaces the old, profile untouched.
            let rotated = Credentials(
                accessToken: AccessToken("access-2"),
                refreshToken: RefreshToken("refresh-2"),
                idToken: IDToken("id.token.2"),
                expiresAt: Date(timeIntervalSince1970: 1_800_003_600)
            )
            try await store.recordValidation(
                .init(key: session.key, date: latest.addingTimeInterval(1), createdAt: session.createdAt, userID: "u1", profile: nil, credentials: rotated)
            )
            let rotatedRead = try await store.session(for: session.key)
            #expect(rotatedRead?.credentials == rotated)
            #expect(rotatedRead?.profile == refreshed)

            try await store.delete(session.key)
            #expect(try await store.session(for: session.key) == nil)
            try await store.delete(session.key)  // deleting twice is fine
        }
    }

    @Test("an unknown key reads as no session", arguments: Kind.available)
    func unknownKey(_ kind: Kind) async throws {
        try await withStore(kind) { store, _ in
            #expect(try await store.session(for: SessionID.generate().storageKey) == nil)
            try await store.checkHealth()
        }
    }

    @Test("countLive counts, and deleteExpired removes, idle and too-old sessions only", arguments: Kind.available)
    func sweep(_ kind: Kind) async throws {
        try await withStore(kind) { store, _ in
            let base = Date(timeIntervalSince1970: 1_800_000_000)
            let (_, old) = makeSession(at: base)
            var (_, idle) = makeSession(at: base.addingTimeInterval(500))
            idle.lastSeenAt = base.addingTimeInterval(500)
            let (_, fresh) = makeSession(at: base.addingTimeInterval(1000))
            for session in [old, idle, fresh] { try await store.insert(session) }
            // Counted first: only the fresh one is live; the store may still hold the others.
            #expect(try await store.countLive(idleCutoff: base.addingTimeInterval(600), createdCutoff: base.addingTimeInterval(100)) == 1)
            #expect(try await store.countLive(idleCutoff: base.addingTimeInterval(-1), createdCutoff: base.addingTimeInterval(-1)) == 3)
            let removed = try await store.deleteExpired(idleCutoff: base.addingTimeInterval(600), createdCutoff: base.addingTimeInterval(100))
            #expect(removed == 2)
            #expect(try await store.session(for: fresh.key) != nil)
            #expect(try await store.session(for: old.key) == nil)
            #expect(try await store.session(for: idle.key) == nil)
        }
    }

    @Test("a user's sessions are found by the user's key and removed together; statistics count rows, live sessions and users", arguments: Kind.available)
    func userSessions(_ kind: Kind) async throws {
        try await withStore(kind) { store, _ in
            let base = Date(timeIntervalSince1970: 1_800_000_000)
            let other = UserProfile(id: "u2", email: nil, name: nil, attributes: ["Uid": .string("u2")])
            var sessions: [Session] = []
            for index in 0..<3 {
                let (_, session) = makeSession(at: base.addingTimeInterval(TimeInterval(index)))
                sessions.append(session)
            }
            let id = SessionID.generate()
            let theirs = Session(
                key: id.storageKey,
                credentials: Credentials(accessToken: AccessToken("t2")),
                profile: other,
                createdAt: base,
                lastSeenAt: base,
                validatedAt: base
            )
            for session in sessions + [theirs] { try await store.insert(session) }
            let stats = try await store.statistics(idleCutoff: base.addingTimeInterval(-1), createdCutoff: base.addingTimeInterval(-1))
            #expect(stats == SessionStatistics(stored: 4, live: 4, liveUsers: 2))
            #expect(try await store.deleteSessions(ofUser: "u1") == 3)
            #expect(try await store.deleteSessions(ofUser: "u1") == 0)
            for session in sessions { #expect(try await store.session(for: session.key) == nil) }
            #expect(try await store.session(for: theirs.key) != nil, "another user's session stays")
            #expect(try await store.statistics(idleCutoff: base.addingTimeInterval(-1), createdCutoff: base.addingTimeInterval(-1)).liveUsers == 1)
        }
    }

    @Test("through SessionManager: idle and absolute expiry delete the session; a new login rotates the id", arguments: Kind.available)
    func managedLifecycle(_ kind: Kind) async throws {
        try await withStore(kind) { store, _ in
            let clock = ManualClock()
            let sessions = SessionManager(store: store, configuration: .init(idleTimeout: 600, absoluteTimeout: 1000), now: clock.function)
            let profile = Self.profile

            let (idle, _) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t1")), profile: profile))
            clock.advance(by: 599)
            #expect(try await sessions.session(for: idle) != nil)
            clock.advance(by: 600)
            #expect(try await sessions.session(for: idle) == nil)
            #expect(try await store.session(for: idle.storageKey) == nil, "an expired session is deleted on read")

            let (busy, _) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t2")), profile: profile))
            for _ in 0..<3 {
                clock.advance(by: 300)
                #expect(try await sessions.session(for: busy) != nil)
            }
            clock.advance(by: 100)
            #expect(try await sessions.session(for: busy) == nil, "the absolute timeout ends even a busy session")

            let (first, _) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t3")), profile: profile))
            try await sessions.end(first.storageKey)
            let (second, _) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t3")), profile: profile))
            #expect(first != second)
            #expect(try await sessions.session(for: first) == nil)
            #expect(try await sessions.session(for: second) != nil)
        }
    }

    @Test("concurrent writers on one session leave it whole, with the latest activity", arguments: Kind.available)
    func concurrentWriters(_ kind: Kind) async throws {
        try await withStore(kind) { store, _ in
            let (_, session) = makeSession()
            try await store.insert(session)
            let start = session.lastSeenAt
            try await withThrowingTaskGroup(of: Void.self) { group in
                for offset in 1...40 {
                    group.addTask {
                        // Racing writers' times lie a moment apart (within SessionManager.futureTolerance).
                        let date = start.addingTimeInterval(TimeInterval(offset) / 32)
                        if offset.isMultiple(of: 2) {
                            try await store.recordActivity(for: session.key, at: date)
                        } else {
                            let profile = UserProfile(id: "u1", email: "u1@example.com", name: "Writer \(offset)", attributes: ["Uid": .string("u1")])
                            try await store.recordValidation(
                                .init(key: session.key, date: date, createdAt: session.createdAt, userID: "u1", profile: profile, credentials: nil)
                            )
                        }
                    }
                }
                try await group.waitForAll()
            }
            let read = try #require(try await store.session(for: session.key))
            #expect(read.credentials == session.credentials)
            #expect(read.lastSeenAt == start.addingTimeInterval(40.0 / 32))
            #expect(read.validatedAt == start.addingTimeInterval(39.0 / 32))
            #expect(read.profile.name?.hasPrefix("Writer ") == true)
        }
    }

    @Test("a PostgreSQL server that does not answer is a clear error, not a hang", .enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason))
    func postgresDown() async throws {
        var configuration = try PostgresSessionStore.makeClientConfiguration(url: "postgres://nobody:x@127.0.0.1:9/none?sslmode=disable")
        configuration.options.connectTimeout = .milliseconds(500)
        try await PostgresTestDatabase.withClient(configuration) { client in
            let store = PostgresSessionStore(client: client, keys: Self.keys, operationTimeout: .milliseconds(800), logger: Logger(label: "test"))
            await #expect(throws: (any Error).self) { try await store.checkHealth() }
            await #expect(throws: (any Error).self) { try await store.insert(makeSession().1) }
        }
    }

    @Test("SQLite keeps neither the session id nor the token in clear, and survives reopening")
    func sqliteAtRest() async throws {
        let directory = try TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sessions.sqlite").path
        let token = "plain-token-that-must-not-be-on-disk"
        let (id, session) = makeSession(token: token)

        let first = try await SQLiteSessionStore.open(path: path, keys: Self.keys, logger: Logger(label: "test"))
        try await first.insert(session)
        try await first.close()

        var bytes = Data()
        for suffix in ["", "-wal"] {
            bytes += (try? Data(contentsOf: URL(fileURLWithPath: path + suffix))) ?? Data()
        }
        #expect(!bytes.isEmpty)
        #expect(bytes.range(of: Data(token.utf8)) == nil)
        #expect(bytes.range(of: Data(id.cookieValue.utf8)) == nil)
        #expect(bytes.range(of: Data("u1@example.com".utf8)) == nil, "the profile is sealed too")

        let reopened = try await SQLiteSessionStore.open(path: path, keys: Self.keys, logger: Logger(label: "test"))
        #expect(try await reopened.session(for: id.storageKey)?.credentials.accessToken.value == token)

        // A store opened with another key cannot read the row, and removes it.
        let otherKey = try await SQLiteSessionStore.open(
            path: path,
            keys: SessionKeys(keyBytes: Data(repeating: 1, count: 32)),
            logger: Logger(label: "test")
        )
        #expect(try await otherKey.session(for: id.storageKey) == nil)
        #expect(try await reopened.session(for: id.storageKey) == nil)
        try await otherKey.close()
        try await reopened.close()
    }

    @Test("a sealed value opens only in its row, its column and with its creation time; first-release values still open")
    func sealingIsBoundToTheSession() throws {
        let a = SessionID.generate().storageKey
        let b = SessionID.generate().storageKey
        let created = 1_800_000_000.25
        let sealed = try Self.sealer.seal(Data("token".utf8), field: .credentials, of: a, createdAt: created)
        #expect(try Self.sealer.open(sealed, field: .credentials, of: a, createdAt: created) == Data("token".utf8))
        #expect(throws: (any Error).self, "another row") { try Self.sealer.open(sealed, field: .credentials, of: b, createdAt: created) }
        #expect(throws: (any Error).self, "another column") { try Self.sealer.open(sealed, field: .profile, of: a, createdAt: created) }
        #expect(throws: (any Error).self, "a created_at moved later") { try Self.sealer.open(sealed, field: .credentials, of: a, createdAt: created + 3600) }
        #expect(throws: (any Error).self, "the version mark taken off") {
            try Self.sealer.open(sealed.dropFirst(2), field: .credentials, of: a, createdAt: created)
        }
        var tampered = sealed
        tampered[tampered.count - 1] ^= 1
        #expect(throws: (any Error).self) { try Self.sealer.open(tampered, field: .credentials, of: a, createdAt: created) }

        let firstRelease = try Self.sealer.sealFirstRelease(Data("token".utf8), for: a)
        #expect(try Self.sealer.open(firstRelease, field: .credentials, of: a, createdAt: created) == Data("token".utf8))
        #expect(throws: (any Error).self) { try Self.sealer.open(firstRelease, field: .credentials, of: b, createdAt: created) }
    }

    @Test("in a store, a profile swapped into the token column, one copied from another row, or a pushed created_at opens nothing", arguments: [Kind.sqlite])
    func swappedColumnsDoNotOpen(_ kind: Kind) async throws {
        try await withStore(kind) { store, path in
            let (_, first) = makeSession()
            let (_, second) = makeSession(at: Date(timeIntervalSince1970: 1_800_000_100))
            try await store.insert(first)
            try await store.insert(second)
            let database = try await SQLiteConnection.open(storage: .file(path: try #require(path).path), logger: Logger(label: "test"))
            defer { Task { try? await database.close() } }
            let firstDigest = SQLiteData.blob(ByteBuffer(data: first.key.digest))
            // Someone who can write to the database swaps the columns of one row...
            _ = try await database.query("UPDATE gatehouse_sessions SET sealed_token = sealed_profile WHERE key = ?", [firstDigest])
            #expect(try await store.session(for: first.key) == nil)
            // ...copies a row's sealed values into another's...
            _ = try await database.query(
                "UPDATE gatehouse_sessions SET sealed_token = (SELECT sealed_token FROM gatehouse_sessions WHERE key = ?), sealed_profile = (SELECT sealed_profile FROM gatehouse_sessions WHERE key = ?) WHERE key = ?",
                [.blob(ByteBuffer(data: second.key.digest)), .blob(ByteBuffer(data: second.key.digest)), firstDigest]
            )
            #expect(try await store.session(for: first.key) == nil)
            // ...or makes an old session young again.
            #expect(try await store.session(for: second.key) != nil)
            _ = try await database.query(
                "UPDATE gatehouse_sessions SET created_at = created_at + 3600 WHERE key = ?",
                [.blob(ByteBuffer(data: second.key.digest))]
            )
            #expect(try await store.session(for: second.key) == nil)
        }
    }

    @Test("the key file is created once with mode 0600 and read back")
    func keyFile() throws {
        let directory = try TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sessions.key").path
        let created = try SessionKeyFile.loadOrCreate(at: path)
        #expect(created.count == 32)
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        #expect(try SessionKeyFile.loadOrCreate(at: path) == created)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: SessionKeyFile.Problem.self) { try SessionKeyFile.loadOrCreate(at: path) }
    }

    @Test("processes starting at once all read the one finished key; a symlink or another user's file is refused; nothing is left half-written")
    func keyFileRaces() async throws {
        let directory = try TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sessions.key").path
        let keys = try await withThrowingTaskGroup(of: Data.self) { group in
            for _ in 0..<16 {
                group.addTask { try SessionKeyFile.loadOrCreate(at: path) }
            }
            return try await group.reduce(into: [Data]()) { $0.append($1) }
        }
        #expect(Set(keys).count == 1, "every starter uses the key that was linked first")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["sessions.key"], "no temporary file stays behind")

        let link = directory.appendingPathComponent("linked.key").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        #expect(throws: SessionKeyFile.Problem.self) { try SessionKeyFile.loadOrCreate(at: link) }
        if geteuid() == 0 {
            // Only root can give a file away; CI runs as root.
            #expect(chown(path, 65534, 65534) == 0)
            #expect(throws: SessionKeyFile.Problem.self) { try SessionKeyFile.loadOrCreate(at: path) }
        }
    }

    @Test("a new SQLite database and its WAL are made with mode 0600")
    func sqliteFileModes() async throws {
        let directory = try TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sessions.sqlite").path
        let store = try await SQLiteSessionStore.open(path: path, keys: .ephemeral(), logger: Logger(label: "test"))
        try await store.insert(makeSession().1)
        for file in [path, path + "-wal"] {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file) has mode \(String(mode ?? 0, radix: 8))")
        }
        try await store.close()
    }
}
