import Foundation
import Synchronization

@testable import Gatehouse

/// A provider that delegates to another but can be told to fail, for the gateway's error paths.
final class ScriptedProvider: IdentityProvider {
    let base: any IdentityProvider
    private let fetchFailure = Mutex<ProviderError?>(nil)
    private let invalidateFailure = Mutex<ProviderError?>(nil)

    init(base: any IdentityProvider) {
        self.base = base
    }

    func failFetches(with error: ProviderError?) { fetchFailure.withLock { $0 = error } }
    func failInvalidations(with error: ProviderError?) { invalidateFailure.withLock { $0 = error } }

    func hostedPageURL(action: HostedPageAction, returnURL: String) -> String {
        base.hostedPageURL(action: action, returnURL: returnURL)
    }

    func fetchProfile(for token: AccessToken) async throws -> UserProfile {
        if let error = fetchFailure.withLock({ $0 }) { throw error }
        return try await base.fetchProfile(for: token)
    }

    func invalidate(_ token: AccessToken) async throws {
        if let error = invalidateFailure.withLock({ $0 }) { throw error }
        try await base.invalidate(token)
    }
}

/// A store that can be switched off, to see the gateway answer 503 instead of crashing. It also
/// keeps the profile argument of every validation written (`nil`: only the time).
final class SwitchableStore: SessionStore {
    struct Down: Error {}
    let base = MemorySessionStore()
    private let down = Mutex(false)
    private let validations = Mutex<[UserProfile?]>([])

    var validationProfiles: [UserProfile?] { validations.withLock { $0 } }

    func setDown(_ isDown: Bool) { down.withLock { $0 = isDown } }
    private func check() throws { if down.withLock({ $0 }) { throw Down() } }

    func insert(_ session: Session) async throws { try check(); await base.insert(session) }
    func session(for key: SessionKey) async throws -> Session? { try check(); return await base.session(for: key) }
    func recordActivity(for key: SessionKey, at date: Date) async throws { try check(); await base.recordActivity(for: key, at: date) }
    func recordValidation(for key: SessionKey, at date: Date, profile: UserProfile?) async throws {
        try check()
        validations.withLock { $0.append(profile) }
        await base.recordValidation(for: key, at: date, profile: profile)
    }
    func delete(_ key: SessionKey) async throws { try check(); await base.delete(key) }
    func deleteExpired(idleCutoff: Date, createdCutoff: Date) async throws -> Int {
        try check()
        return await base.deleteExpired(idleCutoff: idleCutoff, createdCutoff: createdCutoff)
    }
    func countLive(idleCutoff: Date, createdCutoff: Date) async throws -> Int {
        try check()
        return await base.countLive(idleCutoff: idleCutoff, createdCutoff: createdCutoff)
    }
    func checkHealth() async throws { try check() }
}

/// The memory login-state store, counting the lookups that reach it.
final class CountingPendingLoginStore: PendingLoginStore {
    private let base = MemoryPendingLoginStore()
    private let lookups = Mutex(0)

    var lifetime: TimeInterval { base.lifetime }
    var lookupCount: Int { lookups.withLock { $0 } }

    func begin(next: String?) async throws -> PendingLogin {
        await base.begin(next: next)
    }

    func complete(state: String) async throws -> PendingLogin? {
        lookups.withLock { $0 += 1 }
        return await base.complete(state: state)
    }
}
