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
        let (first, _) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t")), profile: profile))
        let (second, _) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t")), profile: profile))
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
        let (id, _) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t")), profile: profile))
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
        let (id, _) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t")), profile: profile))
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
        let (id, started) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t")), profile: profile))
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
        let (_, session) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t")), profile: profile))
        #expect(!sessions.needsRevalidation(session))
        clock.advance(by: 30)
        #expect(sessions.needsRevalidation(session))
        let renewed = try await sessions.recordValidation(of: session, Revalidation(profile: profile))
        #expect(!sessions.needsRevalidation(renewed))
        #expect(manager(revalidate: 0).needsRevalidation(renewed))
    }

    @Test("a revalidation that brings back the same profile writes only the time; a changed profile is written")
    func unchangedProfileNotRewritten() async throws {
        let store = SwitchableStore()
        let sessions = SessionManager(store: store, configuration: .init(revalidateAfter: 30), now: clock.function)
        let (id, session) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t")), profile: profile))
        clock.advance(by: 30)
        let same = UserProfile(id: profile.id, email: profile.email, name: profile.name, json: profile.json)
        let renewed = try await sessions.recordValidation(of: session, Revalidation(profile: same))
        #expect(store.validationProfiles.count == 1)
        #expect(store.validationProfiles.first == .some(nil), "nothing but the time is written")
        #expect(try await sessions.session(for: id)?.validatedAt == clock.now)

        clock.advance(by: 30)
        let renamed = UserProfile(id: "u", email: nil, name: "Ada", attributes: ["Uid": .string("u")])
        _ = try await sessions.recordValidation(of: renewed, Revalidation(profile: renamed))
        #expect(store.validationProfiles.last == .some(renamed))
        let read = try await sessions.session(for: id)
        #expect(read?.profile.name == "Ada")
        #expect(read?.validatedAt == clock.now)
    }

    @Test("sweep removes only expired sessions")
    func sweep() async throws {
        let sessions = manager(idle: 100)
        let (old, _) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t")), profile: profile))
        clock.advance(by: 150)
        let (fresh, _) = try await sessions.start(SignIn(credentials: Credentials(accessToken: AccessToken("t")), profile: profile))
        #expect(try await sessions.sweep() == 1)
        #expect(await store.session(for: old.storageKey) == nil)
        #expect(await store.session(for: fresh.storageKey) != nil)
    }
}

@Suite("Login attempts", .timeLimit(.minutes(1)))
struct LoginAttemptTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case memory, postgres
        var testDescription: String { rawValue }
        static var available: [Kind] { PostgresTestDatabase.enabled ? allCases : [.memory] }
    }

    static let keys = try! SessionKeys(keyBytes: Data(repeating: 5, count: 32))

    /// Runs `body` with a fresh store of spent states of `kind` whose clock is `clock`.
    func withStore(_ kind: Kind, clock: ManualClock = ManualClock(), _ body: (any SpentLoginStateStore) async throws -> Void) async throws {
        switch kind {
        case .memory:
            try await body(MemorySpentLoginStateStore(now: clock.function))
        case .postgres:
            try await PostgresTestDatabase.withIsolatedClient { client in
                try await PostgresSessionStore(client: client, keys: Self.keys, logger: Logger(label: "test")).migrate()
                try await body(PostgresSpentLoginStateStore(client: client, now: clock.function, logger: Logger(label: "test")))
            }
        }
    }

    func attempt(issuedAt: Date = Date(timeIntervalSince1970: 1_800_000_000), next: String? = "/reports") -> LoginAttempt {
        LoginAttempt(state: LoginAttempt.newState(), next: next, secrets: LoginSecrets(["nonce": "n-1", "code_verifier": "v-1"]), issuedAt: issuedAt)
    }

    @Test("a sealed attempt opens under its own cookie name only, and shows nothing of itself")
    func sealing() throws {
        let sealer = LoginAttemptSealer(keys: Self.keys)
        let original = attempt()
        let value = sealer.seal(original, cookieName: "gatehouse_session_state_a")
        #expect(sealer.open(value, cookieName: "gatehouse_session_state_a") == original)
        #expect(sealer.open(value, cookieName: "gatehouse_session_state_b") == nil, "a value moved to another cookie does not open")
        #expect(LoginAttemptSealer(keys: .ephemeral()).open(value, cookieName: "gatehouse_session_state_a") == nil, "another key cannot open it")
        for secret in [original.state, "n-1", "v-1", "/reports"] {
            #expect(!value.contains(secret))
            #expect(Base64URL.decode(value).map { Data($0).range(of: Data(secret.utf8)) == nil } == true)
        }
        var bytes = try #require(Base64URL.decode(value))
        bytes[bytes.count / 2] ^= 1
        #expect(sealer.open(Base64URL.encode(bytes), cookieName: "gatehouse_session_state_a") == nil, "a forged value does not open")
        for garbage in ["", "!!!", String(repeating: "A", count: 10_000), value + "A"] {
            #expect(sealer.open(garbage, cookieName: "gatehouse_session_state_a") == nil)
        }
        let bare = attempt(next: nil)
        #expect(sealer.open(sealer.seal(bare, cookieName: "c"), cookieName: "c") == bare)
    }

    @Test("a state is spent once", arguments: Kind.available)
    func singleUse(_ kind: Kind) async throws {
        try await withStore(kind) { spent in
            let login = attempt()
            let expiry = login.issuedAt.addingTimeInterval(600)
            let first = try await spent.spend(login, expiresAt: expiry)
            let second = try await spent.spend(login, expiresAt: expiry)
            let other = try await spent.spend(attempt(), expiresAt: expiry)
            #expect(first)
            #expect(!second, "a spent state is refused")
            #expect(other, "another state is its own")
        }
    }

    @Test("two callbacks racing for one state: exactly one wins", arguments: Kind.available)
    func race(_ kind: Kind) async throws {
        try await withStore(kind) { spent in
            let login = attempt()
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 { group.addTask { try await spent.spend(login, expiresAt: login.issuedAt.addingTimeInterval(600)) } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
        }
    }

    @Test("an expired attempt, or one claiming a future issue time, is refused")
    func expiry() {
        let clock = ManualClock()
        let attempts = LoginAttempts(keys: Self.keys, spent: MemorySpentLoginStateStore(), lifetime: 600, now: clock.function)
        let login = attempts.attempt(state: LoginAttempt.newState(), next: nil, secrets: .init())
        #expect(!attempts.isExpired(login))
        clock.advance(by: 599)
        #expect(!attempts.isExpired(login))
        clock.advance(by: 1)
        #expect(attempts.isExpired(login))
        let future = LoginAttempt(state: LoginAttempt.newState(), next: nil, secrets: .init(), issuedAt: clock.now.addingTimeInterval(3600))
        #expect(attempts.isExpired(future))
    }

    @Test("spent states in memory are bounded; what was forgotten still cannot be spent again")
    func capacity() async {
        let clock = ManualClock()
        let spent = MemorySpentLoginStateStore(capacity: 100, now: clock.function)
        var logins: [LoginAttempt] = []
        for index in 0..<1000 {
            let login = attempt(issuedAt: clock.now.addingTimeInterval(TimeInterval(index) / 1000))
            logins.append(login)
            #expect(await spent.spend(login, expiresAt: login.issuedAt.addingTimeInterval(600)) == true)
        }
        #expect(await spent.count <= 100)
        for login in logins {
            #expect(await spent.spend(login, expiresAt: login.issuedAt.addingTimeInterval(600)) == false, "never twice, remembered or not")
        }
        // States past their expiry are dropped without refusing anyone.
        clock.advance(by: 700)
        let fresh = attempt(issuedAt: clock.now)
        #expect(await spent.spend(fresh, expiresAt: fresh.issuedAt.addingTimeInterval(600)) == true)
        #expect(await spent.count == 1)
    }

    @Test("state comparison is exact")
    func comparison() {
        #expect(LoginAttempt.statesMatch("abc", "abc"))
        #expect(!LoginAttempt.statesMatch("abc", "abd"))
        #expect(!LoginAttempt.statesMatch("abc", "abcd"))
        #expect(!LoginAttempt.statesMatch("", "a"))
    }
}

extension LoginAttemptTests {
    @Test("a credential is spent once until it expires; a denial keeps it refused at least as long; a state never collides with one", arguments: Kind.available)
    func spentCredentials(_ kind: Kind) async throws {
        let clock = ManualClock()
        try await withStore(kind, clock: clock) { store in
            let spent = SpentCredentials(store: store, unknownLifetime: 600, now: clock.function)
            let token = Credentials(accessToken: AccessToken("token-\(UUID().uuidString)"))
            #expect(try await spent.spend(token))
            #expect(try await !spent.spend(token), "the second login with the token is refused")
            #expect(try await spent.spend(Credentials(accessToken: AccessToken("another-\(UUID().uuidString)"))))

            clock.advance(by: 601)
            #expect(try await spent.spend(token), "remembered only until it would have expired")

            // A token the provider would not revoke: refused for longer than the first spend said.
            let unrevoked = Credentials(accessToken: AccessToken("unrevoked-\(UUID().uuidString)"), expiresAt: clock.now.addingTimeInterval(3600))
            #expect(try await spent.spend(unrevoked))
            try await spent.deny(unrevoked)
            clock.advance(by: 1800)
            #expect(try await !spent.spend(unrevoked))
            clock.advance(by: 1801)
            #expect(try await spent.spend(unrevoked))

            // Spent states and spent credentials live side by side without meeting.
            let login = attempt(issuedAt: clock.now)
            #expect(try await store.spend(login, expiresAt: clock.now.addingTimeInterval(600)))
            #expect(try await spent.spend(Credentials(accessToken: AccessToken(login.state))))
        }
    }
}
