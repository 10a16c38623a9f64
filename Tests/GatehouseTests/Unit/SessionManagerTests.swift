import Foundation
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

@Suite("Login states")
struct LoginStateStoreTests {
    @Test("a state is usable once, carries next, and is 256 random bits")
    func singleUse() async {
        let states = LoginStateStore()
        let login = await states.begin(next: "/reports")
        #expect(Base64URL.decode(login.state)?.count == 32)
        #expect(await states.complete(state: login.state)?.next == "/reports")
        #expect(await states.complete(state: login.state) == nil)
        #expect(await states.complete(state: "unknown") == nil)
    }

    @Test("an expired state is refused")
    func expiry() async {
        let clock = ManualClock()
        let states = LoginStateStore(lifetime: 600, now: clock.function)
        let login = await states.begin(next: nil)
        clock.advance(by: 601)
        #expect(await states.complete(state: login.state) == nil)
    }

    @Test("a flood of logins is capped: the oldest are forgotten, memory stays bounded")
    func capacity() async {
        let states = LoginStateStore(capacity: 100)
        let first = await states.begin(next: nil)
        var last = first
        for _ in 0..<1000 { last = await states.begin(next: nil) }
        #expect(await states.count == 100)
        #expect(await states.complete(state: first.state) == nil)
        #expect(await states.complete(state: last.state) != nil)
    }

    @Test("state comparison is exact")
    func comparison() {
        #expect(LoginStateStore.statesMatch("abc", "abc"))
        #expect(!LoginStateStore.statesMatch("abc", "abd"))
        #expect(!LoginStateStore.statesMatch("abc", "abcd"))
        #expect(!LoginStateStore.statesMatch("", "a"))
    }
}
