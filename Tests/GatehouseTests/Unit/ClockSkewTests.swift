import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import Gatehouse

extension SessionStoreTests {
    @Test("a validation time in the future is due at once, and the next validation replaces it rather than keeping the later time", arguments: Kind.available)
    func futureValidationTime(_ kind: Kind) async throws {
        try await withStore(kind) { store, _ in
            let clock = ManualClock()
            let sessions = SessionManager(store: store, configuration: .init(revalidateAfter: 30), now: clock.function)
            let (_, stamped) = makeSession(at: clock.now)

            // Within the tolerance, a time just ahead (two machines' clocks a moment apart) is fresh.
            var nearlyNow = stamped
            nearlyNow.validatedAt = clock.now.addingTimeInterval(SessionManager.futureTolerance - 0.5)
            #expect(!sessions.needsRevalidation(nearlyNow))

            // An hour ahead: a clock stepped back, or another instance's running fast.
            var ahead = stamped
            ahead.validatedAt = clock.now.addingTimeInterval(3600)
            try await store.insert(ahead)
            #expect(sessions.needsRevalidation(ahead), "a future time never makes a session fresh")

            let revalidated = try await sessions.recordValidation(of: ahead, Revalidation(profile: Self.profile))
            let stored = try #require(try await store.session(for: ahead.key))
            #expect(stored.validatedAt == clock.now, "the future time is replaced by now")
            #expect(revalidated.validatedAt == clock.now)
            #expect(!sessions.needsRevalidation(stored))
            clock.advance(by: 30)
            #expect(sessions.needsRevalidation(try #require(try await store.session(for: ahead.key))))

            // Two revalidations racing, their times a moment apart: the later one stays, in either order.
            let recorded = clock.now.addingTimeInterval(-30)
            try await store.recordValidation(
                .init(key: ahead.key, date: recorded.addingTimeInterval(-1), createdAt: ahead.createdAt, userID: "u1", profile: nil, credentials: nil)
            )
            #expect(try await store.session(for: ahead.key)?.validatedAt == recorded)
            try await store.recordValidation(
                .init(key: ahead.key, date: recorded.addingTimeInterval(1), createdAt: ahead.createdAt, userID: "u1", profile: nil, credentials: nil)
            )
            #expect(try await store.session(for: ahead.key)?.validatedAt == recorded.addingTimeInterval(1))
        }
    }
}

@Suite("The database's clock")
struct DatabaseClockTests {
    @Test("the server's time is followed by the sampled offset, and a failed sample keeps the last one")
    func followsTheServer() async throws {
        let serverAhead = Mutex<TimeInterval?>(120)
        let clock = DatabaseClock(logger: Logger(label: "test")) {
            guard let ahead = serverAhead.withLock({ $0 }) else { throw CancellationError() }
            return Date().addingTimeInterval(ahead)
        }
        #expect(abs(clock.now().timeIntervalSinceNow) < 1, "before the first sample, this machine's time")
        try await clock.sample()
        #expect(abs(clock.sampledOffset - 120) < 1)
        #expect(abs(clock.now().timeIntervalSinceNow - 120) < 1)

        serverAhead.withLock { $0 = -45 }
        try await clock.sample()
        #expect(abs(clock.now().timeIntervalSinceNow + 45) < 1)

        serverAhead.withLock { $0 = nil }
        await #expect(throws: CancellationError.self) { try await clock.sample() as Void }
        #expect(abs(clock.sampledOffset + 45) < 1, "an unreachable server leaves the offset as it was")
    }

    @Test(
        "with PostgreSQL, sessions are stamped by the database server's clock",
        .enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason)
    )
    func postgresStampsByTheServer() async throws {
        try await PostgresTestDatabase.withIsolatedClient { client in
            let store = PostgresSessionStore(client: client, keys: SessionStoreTests.keys, logger: Logger(label: "test"))
            try await store.migrate()
            let server = try await store.serverTime()
            #expect(abs(server.timeIntervalSinceNow) < 5, "the server's clock_timestamp() is read (it runs on this machine)")

            // The server's clock as if it ran ten minutes behind this machine's.
            let clock = DatabaseClock(logger: Logger(label: "test")) { try await store.serverTime().addingTimeInterval(-600) }
            try await clock.sample()
            let sessions = SessionManager(store: store, configuration: .init(), now: { clock.now() })
            let (id, _) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t")), profile: SessionStoreTests.profile))
            let stored = try #require(try await store.session(for: id.storageKey))
            #expect(abs(stored.createdAt.timeIntervalSinceNow + 600) < 5, "created by the server's clock, not this machine's")
            #expect(try await sessions.session(for: id) != nil, "and read back as live by the same clock")
        }
    }
}
