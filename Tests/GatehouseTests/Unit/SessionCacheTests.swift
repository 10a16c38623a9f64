import Foundation
import Logging
import PostgresNIO
import Testing

@testable import Gatehouse

@Suite("Session cache", .timeLimit(.minutes(3)))
struct SessionCacheTests {
    static let keys = try! SessionKeys(keyBytes: Data(repeating: 7, count: 32))
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    func makeSession(profileBytes: Int = 100, at date: Date = start) -> Session {
        makeSession(id: SessionID.generate(), profileBytes: profileBytes, at: date)
    }

    func makeSession(id: SessionID, profileBytes: Int = 100, at date: Date = start) -> Session {
        let profile = UserProfile(id: "u-\(UUID())", email: nil, name: nil, json: Data(repeating: 0x20, count: profileBytes))
        return Session(
            key: id.storageKey,
            credentials: Credentials(accessToken: AccessToken("token-\(UUID())")),
            profile: profile,
            createdAt: date,
            lastSeenAt: date,
            validatedAt: date
        )
    }

    @Test("a fill after a miss is served; one raced by an invalidation is not; a distrusted cache answers and keeps nothing")
    func fillsAndRaces() throws {
        let cache = SessionCache()
        let session = makeSession()
        guard case .miss(let miss) = cache.lookup(session.key) else { throw Unexpected.hit }
        cache.fill(session, after: miss)
        guard case .hit(let found) = cache.lookup(session.key) else { throw Unexpected.miss }
        #expect(found == session)

        let raced = makeSession()
        guard case .miss(let racedMiss) = cache.lookup(raced.key) else { throw Unexpected.hit }
        cache.invalidate(SessionKey(digest: Data(repeating: 1, count: 32)))  // any invalidation in between
        cache.fill(raced, after: racedMiss)
        guard case .miss = cache.lookup(raced.key) else { throw Unexpected.hit }

        cache.distrust()
        guard case .miss(let distrusted) = cache.lookup(session.key) else { throw Unexpected.hit }
        cache.insert(session)
        cache.fill(session, after: distrusted)
        cache.trust()
        guard case .miss = cache.lookup(session.key) else { throw Unexpected.hit }
        #expect(cache.statistics.entries == 0)
        #expect(cache.statistics.hits == 1)
        #expect(cache.statistics.misses == 5)
    }

    @Test("the cache stays within its byte budget, evicting what was not read since the hand passed")
    func byteBudget() throws {
        let one = makeSession(profileBytes: 1000)
        let cache = SessionCache(byteBudget: one.estimatedBytes * 10)
        let sessions = (0..<50).map { _ in makeSession(profileBytes: 1000) }
        let kept = sessions[0]
        for session in sessions {
            cache.insert(session)
            _ = cache.lookup(kept.key)  // read all along: always given a second chance
        }
        let statistics = cache.statistics
        #expect(statistics.bytes <= cache.byteBudget)
        #expect(statistics.entries == 10)
        #expect(statistics.evictions == 40)
        guard case .hit = cache.lookup(kept.key) else { throw Unexpected.miss }
        // A session larger than the whole budget is not cached at all.
        let huge = makeSession(profileBytes: one.estimatedBytes * 11)
        cache.insert(huge)
        guard case .miss = cache.lookup(huge.key) else { throw Unexpected.hit }
    }

    @Test("a cached read does not reach the store; every write does, and the cache follows it")
    func readsAndWrites() async throws {
        let base = SwitchableStore()
        let store = CachedSessionStore(base: base, cache: SessionCache())
        let session = makeSession()
        try await store.insert(session)
        for _ in 0..<5 { #expect(try await store.session(for: session.key) == session) }
        #expect(base.sessionReads == 0)

        let later = Self.start.addingTimeInterval(60)
        try await store.recordActivity(for: session.key, at: later)
        let profile = UserProfile(id: session.profile.id, email: "new@example.com", name: nil, json: Data("{}".utf8))
        let credentials = Credentials(accessToken: AccessToken("rotated"))
        try await store.recordValidation(
            ValidationRecord(key: session.key, date: later, createdAt: session.createdAt, userID: profile.id, profile: profile, credentials: credentials)
        )
        let cached = try #require(try await store.session(for: session.key))
        let stored = try #require(await base.base.session(for: session.key))
        #expect(cached == stored)
        #expect(cached.lastSeenAt == later && cached.credentials == credentials && cached.profile == profile)
        #expect(base.sessionReads == 0)

        try await store.delete(session.key)
        #expect(try await store.session(for: session.key) == nil)
        #expect(base.sessionReads == 1)

        let other = makeSession()
        try await store.insert(other)
        #expect(try await store.deleteSessions(ofUser: other.profile.id) == 1)
        #expect(try await store.session(for: other.key) == nil)
    }

    @Test("a cached copy that looks idle is checked against the store before the session ends")
    func idleDecisionRereads() async throws {
        let base = SwitchableStore()
        let cache = SessionCache()
        let clock = ManualClock(Self.start)
        let sessions = SessionManager(
            store: CachedSessionStore(base: base, cache: cache),
            configuration: .init(idleTimeout: 600, absoluteTimeout: 86_400),
            now: { clock.now }
        )
        let id = SessionID.generate()
        let session = makeSession(id: id)
        try await sessions.store.insert(session)
        _ = try await sessions.store.session(for: session.key)
        // Another instance saw the session later; this one's cached copy does not know.
        await base.base.recordActivity(for: session.key, at: Self.start.addingTimeInterval(500))
        clock.advance(by: 700)
        let cached = try #require(try await sessions.store.session(for: session.key))
        #expect(cached.lastSeenAt == Self.start, "the cached copy is stale")
        let found = try await sessions.session(for: id)
        #expect(found?.lastSeenAt == Self.start.addingTimeInterval(700), "live by the store's copy, and its activity recorded")
        clock.advance(by: 700)
        #expect(try await sessions.session(for: id) == nil)
        #expect(await base.base.session(for: session.key) == nil, "idle by the store's copy too: ended")
    }

    @Test("another process's write to the SQLite file empties the cache before the next read; the gateway's own writes, and other files beside it, do not")
    func sqliteOtherWriter() async throws {
        let directory = try TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sessions.sqlite").path
        let gateway = try await SQLiteSessionStore.open(path: path, keys: Self.keys, logger: Logger(label: "test"))
        let cache = SessionCache()
        let watch = try #require(SQLiteWriteWatch(store: gateway, path: path))
        let store = CachedSessionStore(base: gateway, cache: cache, coherence: watch)
        let session = makeSession()
        try await store.insert(session)
        _ = try await store.session(for: session.key)
        try await store.recordActivity(for: session.key, at: Self.start.addingTimeInterval(30))
        _ = try await store.session(for: session.key)
        let before = cache.statistics
        #expect(try await store.session(for: session.key) != nil)
        #expect(cache.statistics.hits == before.hits + 1, "the gateway's own write left the session cached")
        // A log written beside the database is not a write to it: SQLite is not even asked.
        let checks = watch.checks
        try Data("a log line\n".utf8).write(to: directory.appendingPathComponent("gateway.log"))
        #expect(try await store.session(for: session.key) != nil)
        #expect(cache.statistics.hits == before.hits + 2, "a file beside the database left the session cached")
        #expect(watch.checks == checks, "a file beside the database made SQLite be asked")

        // A second connection, as `gatehouse sessions revoke` opens one.
        let administrator = try await SQLiteSessionStore.open(path: path, keys: Self.keys, logger: Logger(label: "test"))
        #expect(try await administrator.deleteSessions(ofUser: session.profile.id) == 1)
        try await administrator.close()
        #expect(try await store.session(for: session.key) == nil, "the very next read sees the revocation")
        try await gateway.close()
    }

    @Test(
        "a revocation or a rotated credential on one PostgreSQL instance reaches the other's cache (the 100 ms bound is measured between processes)",
        .enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason)
    )
    func postgresRevocationReachesOthers() async throws {
        try await PostgresTestDatabase.withIsolatedClient { client in
            let database = PostgresSessionStore(client: client, keys: Self.keys, operationTimeout: .seconds(30), logger: Logger(label: "test"))
            try await database.migrate()
            try await PostgresTestDatabase.withSessionChanges(client: client) { cacheA in
                try await PostgresTestDatabase.withSessionChanges(client: client) { cacheB in
                    let a = CachedSessionStore(base: database, cache: cacheA)
                    let b = CachedSessionStore(base: database, cache: cacheB)
                    var worst = Duration.zero
                    for round in 0..<5 {
                        let session = makeSession()
                        try await a.insert(session)
                        _ = try await b.session(for: session.key)
                        let hits = cacheB.statistics.hits
                        #expect(try await b.session(for: session.key) == session)
                        #expect(cacheB.statistics.hits == hits + 1, "instance B answers from its cache")

                        let revoked = ContinuousClock.now
                        if round.isMultiple(of: 2) {
                            try await a.delete(session.key)
                        } else {
                            #expect(try await a.deleteSessions(ofUser: session.profile.id) == 1)
                        }
                        try await PostgresTestDatabase.until("instance B refuses the revoked session", seconds: 10) {
                            try await b.session(for: session.key) == nil
                        }
                        worst = max(worst, ContinuousClock.now - revoked)
                    }
                    // In this process, beside every other suite, scheduling decides more than the database does.
                    print("in-process: a revocation reached the other instance within \(worst) at worst")

                    // A rotated credential on A reaches B too: B must never refresh with the old one.
                    let session = makeSession()
                    try await a.insert(session)
                    _ = try await b.session(for: session.key)
                    let rotated = Credentials(accessToken: AccessToken("rotated-\(UUID())"))
                    try await a.recordValidation(
                        ValidationRecord(
                            key: session.key,
                            date: Date(),
                            createdAt: session.createdAt,
                            userID: session.profile.id,
                            profile: nil,
                            credentials: rotated
                        )
                    )
                    try await PostgresTestDatabase.until("B holds the rotated credentials", seconds: 10) {
                        try await b.session(for: session.key)?.credentials == rotated
                    }
                }
            }
        }
    }

    @Test(
        "while the notifications are lost no PostgreSQL instance serves from its cache, and it starts afresh once they are back",
        .enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason)
    )
    func postgresLostNotifications() async throws {
        try await PostgresTestDatabase.withIsolatedClient { client in
            let database = PostgresSessionStore(client: client, keys: Self.keys, operationTimeout: .seconds(30), logger: Logger(label: "test"))
            try await database.migrate()
            // Listening resumes 20 s after the loss: the steps in between take far less, however loaded the machine.
            try await PostgresTestDatabase.withSessionChanges(client: client, retryDelay: .seconds(20)) { cache, changes in
                let store = CachedSessionStore(base: database, cache: cache)
                let session = makeSession()
                try await store.insert(session)
                _ = try await store.session(for: session.key)
                #expect(cache.statistics.entries == 1)

                // The listening connection is ended by the server, as a restart or a network cut would.
                let listener = try #require(changes.listeningProcessID)
                try await Self.bounded { try await client.query("SELECT pg_terminate_backend(\(listener))") }
                try await PostgresTestDatabase.until("the cache is distrusted") { !cache.isTrusted }
                #expect(cache.statistics.entries == 0)

                // A revocation the cache is not told of, made while it cannot be: the next read still sees it.
                try await Self.bounded { try await client.query("DELETE FROM gatehouse_sessions WHERE key = \(session.key.digest)") }
                #expect(try await store.session(for: session.key) == nil)
                let other = makeSession()
                try await store.insert(other)
                let misses = cache.statistics.misses
                #expect(try await store.session(for: other.key) != nil)
                #expect(cache.statistics.misses == misses + 1, "read from the database, not the cache")

                try await PostgresTestDatabase.until("the notifications flow again", seconds: 90) { cache.isTrusted }
                #expect(changes.listeningProcessID != listener)
                #expect(try await store.session(for: other.key) != nil)
                try await Self.bounded { try await client.query("DELETE FROM gatehouse_sessions WHERE key = \(other.key.digest)") }
                try await PostgresTestDatabase.until("the deletion is announced", seconds: 10) { try await store.session(for: other.key) == nil }
            }
        }
    }

    @Test(
        "a listening connection that stops answering without closing is given up within two heartbeats, and listening resumes on a new one",
        .enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason)
    )
    func postgresSilentListener() async throws {
        try await PostgresTestDatabase.withIsolatedClient { client in
            try await PostgresTestDatabase.withSessionChanges(client: client, retryDelay: .milliseconds(200), heartbeat: .seconds(2)) { cache, changes in
                // The server process of the listening connection is stopped: its socket stays open and
                // says nothing, as a connection does when the network between drops it without a word.
                // Under load a first attempt can be given up just as it listens: the process stopped is
                // the one listening now, found again if it is gone before the signal.
                var stopped: Int32?
                for _ in 0..<5 where stopped == nil {
                    try await PostgresTestDatabase.until("the session changes are listened to") { cache.isTrusted && changes.listeningProcessID != nil }
                    let candidate = try #require(changes.listeningProcessID)
                    if kill(pid_t(candidate), SIGSTOP) == 0 { stopped = candidate }
                }
                let listener = try #require(stopped, "the test signals the database's processes, so the server must run on this machine")
                do {
                    try await PostgresTestDatabase.until("the cache is distrusted", seconds: 10) { !cache.isTrusted }
                    try await PostgresTestDatabase.until("listening resumes on another connection", seconds: 20) {
                        cache.isTrusted && changes.listeningProcessID != listener
                    }
                } catch {
                    kill(pid_t(listener), SIGCONT)
                    throw error
                }
                kill(pid_t(listener), SIGCONT)
                try await Self.bounded { try await client.query("SELECT pg_terminate_backend(\(listener))") }
            }
        }
    }

    /// A statement that fails the test, rather than holding it, when the database does not answer within 20 s.
    static func bounded(_ statement: @escaping @Sendable () async throws -> Void) async throws {
        try await withDeadline(.now + .seconds(20), operation: statement)
    }

    enum Unexpected: Error { case hit, miss }
}
