import Foundation
import Logging
import Testing

@testable import Gatehouse

@Suite("Session rules")
struct SessionManagerTests {
    let clock = ManualClock()
    let store = MemorySessionStore()
    let profile = UserProfile(id: "u", email: nil, name: nil, attributes: ["Uid": .string("u")])

    func manager(idle: TimeInterval = 1800, absolute: TimeInterval = 28800, revalidate: TimeInterval = 30) -> SessionManager {
        SessionManager(store: store, configuration: .init(idleTimeout: idle, absoluteTimeout: absolute, revalidateAfter: revalidate), now: clock.function)
    }

    @Test("every start issues a new 256-bit id, stored only as its hash")
    func newIDs() async throws {
        let sessions = manager()
        let (first, _) = try await sessions.start(token: AccessToken("t"), profile: profile)
        let (second, _) = try await sessions.start(token: AccessToken("t"), profile: profile)
        #expect(first != second)
        #expect(first.cookieValue.count == 43)
        #expect(Base64URL.decode(first.cookieValue)?.count == 32)
        #expect(first.storageKey.digest.count == 32)
        #expect(first.storageKey.digest != Data(first.cookieValue.utf8))
        #expect(await store.count == 2)
    }

    @Test("an idle session ends, and is deleted, on the first read past the idle timeout")
    func idleTimeout() async throws {
        let sessions = manager(idle: 600)
        let (id, _) = try await sessions.start(token: AccessToken("t"), profile: profile)
        clock.advance(by: 599)
        #expect(try await sessions.session(for: id) != nil)
        clock.advance(by: 599)
        #expect(try await sessions.session(for: id) != nil, "activity at 599 s kept it alive")
        clock.advance(by: 600)
        #expect(try await sessions.session(for: id) == nil)
        #expect(await store.count == 0)
    }

    @Test("a busy session still ends at the absolute timeout")
    func absoluteTimeout() async throws {
        let sessions = manager(idle: 600, absolute: 1000)
        let (id, _) = try await sessions.start(token: AccessToken("t"), profile: profile)
        for _ in 0..<3 {
            clock.advance(by: 300)
            #expect(try await sessions.session(for: id) != nil)
        }
        clock.advance(by: 100)
        #expect(try await sessions.session(for: id) == nil)
    }

    @Test("activity is written at most once per interval")
    func throttledActivity() async throws {
        let sessions = manager(idle: 1800)
        let (id, started) = try await sessions.start(token: AccessToken("t"), profile: profile)
        clock.advance(by: 30)
        _ = try await sessions.session(for: id)
        #expect(await store.session(for: id.storageKey)?.lastSeenAt == started.lastSeenAt)
        clock.advance(by: 31)
        _ = try await sessions.session(for: id)
        #expect(await store.session(for: id.storageKey)?.lastSeenAt == clock.now)
    }

    @Test("revalidation is due after revalidateAfterSeconds, and always with 0")
    func revalidation() async throws {
        let sessions = manager(revalidate: 30)
        let (_, session) = try await sessions.start(token: AccessToken("t"), profile: profile)
        #expect(!sessions.needsRevalidation(session))
        clock.advance(by: 30)
        #expect(sessions.needsRevalidation(session))
        let renewed = try await sessions.recordValidation(of: session, profile: profile)
        #expect(!sessions.needsRevalidation(renewed))
        #expect(manager(revalidate: 0).needsRevalidation(renewed))
    }

    @Test("a revalidation that brings back the same profile writes only the time; a changed profile is written")
    func unchangedProfileNotRewritten() async throws {
        let store = SwitchableStore()
        let sessions = SessionManager(store: store, configuration: .init(revalidateAfter: 30), now: clock.function)
        let (id, session) = try await sessions.start(token: AccessToken("t"), profile: profile)
        clock.advance(by: 30)
        let same = UserProfile(id: profile.id, email: profile.email, name: profile.name, json: profile.json)
        let renewed = try await sessions.recordValidation(of: session, profile: same)
        #expect(store.validationProfiles.count == 1)
        #expect(store.validationProfiles.first == .some(nil), "nothing but the time is written")
        #expect(try await sessions.session(for: id)?.validatedAt == clock.now)

        clock.advance(by: 30)
        let renamed = UserProfile(id: "u", email: nil, name: "Ada", attributes: ["Uid": .string("u")])
        _ = try await sessions.recordValidation(of: renewed, profile: renamed)
        #expect(store.validationProfiles.last == .some(renamed))
        let read = try await sessions.session(for: id)
        #expect(read?.profile.name == "Ada")
        #expect(read?.validatedAt == clock.now)
    }

    @Test("sweep removes only expired sessions")
    func sweep() async throws {
        let sessions = manager(idle: 100)
        let (old, _) = try await sessions.start(token: AccessToken("t"), profile: profile)
        clock.advance(by: 150)
        let (fresh, _) = try await sessions.start(token: AccessToken("t"), profile: profile)
        #expect(try await sessions.sweep() == 1)
        #expect(await store.session(for: old.storageKey) == nil)
        #expect(await store.session(for: fresh.storageKey) != nil)
    }
}

@Suite("Logins in flight", .timeLimit(.minutes(1)))
struct PendingLoginStoreTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case memory, postgres
        var testDescription: String { rawValue }
        static var available: [Kind] { PostgresTestDatabase.enabled ? allCases : [.memory] }
    }

    /// Runs `body` with a fresh store of `kind` whose clock is `clock`.
    func withStore(_ kind: Kind, clock: ManualClock = ManualClock(), _ body: (any PendingLoginStore) async throws -> Void) async throws {
        switch kind {
        case .memory:
            try await body(MemoryPendingLoginStore(lifetime: 600, now: clock.function))
        case .postgres:
            try await PostgresTestDatabase.withIsolatedClient { client in
                let store = PostgresPendingLoginStore(client: client, lifetime: 600, now: clock.function, logger: Logger(label: "test"))
                try await store.migrate()
                try await body(store)
            }
        }
    }

    @Test("a state is usable once, carries next, and is 256 random bits", arguments: Kind.available)
    func singleUse(_ kind: Kind) async throws {
        try await withStore(kind) { states in
            let login = try await states.begin(next: "/reports")
            #expect(Base64URL.decode(login.state)?.count == 32)
            #expect(try await states.complete(state: login.state)?.next == "/reports")
            #expect(try await states.complete(state: login.state) == nil)
            #expect(try await states.complete(state: "unknown") == nil)
            let bare = try await states.begin(next: nil)
            #expect(try await states.complete(state: bare.state)?.next == nil)
        }
    }

    @Test("an expired state is refused", arguments: Kind.available)
    func expiry(_ kind: Kind) async throws {
        let clock = ManualClock()
        try await withStore(kind, clock: clock) { states in
            let login = try await states.begin(next: nil)
            clock.advance(by: 601)
            #expect(try await states.complete(state: login.state) == nil)
        }
    }

    @Test("two callbacks racing for one state: exactly one wins", arguments: Kind.available)
    func race(_ kind: Kind) async throws {
        try await withStore(kind) { states in
            let login = try await states.begin(next: "/x")
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 { group.addTask { try await states.complete(state: login.state) != nil } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
        }
    }

    @Test("a flood of logins is capped in memory: the oldest are forgotten")
    func capacity() async {
        let states = MemoryPendingLoginStore(capacity: 100)
        let first = await states.begin(next: nil)
        var last = first
        for _ in 0..<1000 { last = await states.begin(next: nil) }
        #expect(await states.count == 100)
        #expect(await states.complete(state: first.state) == nil)
        #expect(await states.complete(state: last.state) != nil)
    }

    @Test("state comparison is exact")
    func comparison() {
        #expect(PendingLogin.statesMatch("abc", "abc"))
        #expect(!PendingLogin.statesMatch("abc", "abd"))
        #expect(!PendingLogin.statesMatch("abc", "abcd"))
        #expect(!PendingLogin.statesMatch("", "a"))
    }
}
