import Foundation
import Synchronization

@testable import Gatehouse

/// A provider that delegates to another but can be told to fail, for the gateway's error paths.
final class ScriptedProvider: IdentityProvider {
    let base: any IdentityProvider
    private let completionFailure = Mutex<ProviderError?>(nil)
    private let revalidationFailure = Mutex<ProviderError?>(nil)
    private let endFailure = Mutex<ProviderError?>(nil)

    init(base: any IdentityProvider) {
        self.base = base
    }

    private let profileID = Mutex<String?>(nil)

    /// Makes every sign-in's profile carry the id `id` (`nil`: the provider's own).
    func renameProfiles(to id: String?) { profileID.withLock { $0 = id } }

    /// Makes every login completion fail with `error` (`nil`: delegate again).
    func failCompletions(with error: ProviderError?) { completionFailure.withLock { $0 = error } }
    func failRevalidations(with error: ProviderError?) { revalidationFailure.withLock { $0 = error } }
    func failEndSessions(with error: ProviderError?) { endFailure.withLock { $0 = error } }

    func beginLogin(_ start: LoginStart) async throws(ProviderError) -> LoginRedirect {
        try await base.beginLogin(start)
    }

    func completeLogin(_ completion: LoginCompletion) async throws(ProviderError) -> SignIn {
        if let error = completionFailure.withLock({ $0 }) { throw error }
        var signIn = try await base.completeLogin(completion)
        if let id = profileID.withLock({ $0 }) {
            signIn.profile = UserProfile(id: id, email: signIn.profile.email, name: signIn.profile.name, json: signIn.profile.json)
        }
        signIn.profile = padded(signIn.profile)
        return signIn
    }

    func revalidate(_ credentials: Credentials, current: UserProfile) async throws(ProviderError) -> Revalidation {
        if let error = revalidationFailure.withLock({ $0 }) { throw error }
        var revalidation = try await base.revalidate(credentials, current: current)
        if let id = revalidatedID.withLock({ $0 }) {
            revalidation.profile = UserProfile(id: id, email: revalidation.profile.email, name: revalidation.profile.name, json: revalidation.profile.json)
        }
        revalidation.profile = padded(revalidation.profile)
        return revalidation
    }

    private let revalidatedID = Mutex<String?>(nil)
    private let padding = Mutex<Int?>(nil)

    /// Makes every profile from now on (sign-ins and revalidations) carry a `Padding` attribute of
    /// `bytes` characters (`nil`: the provider's own profile).
    func padProfiles(with bytes: Int?) { padding.withLock { $0 = bytes } }

    private func padded(_ profile: UserProfile) -> UserProfile {
        guard let bytes = padding.withLock({ $0 }) else { return profile }
        var attributes = profile.attributes
        attributes["Padding"] = .string(String(repeating: "x", count: bytes))
        return UserProfile(id: profile.id, email: profile.email, name: profile.name, attributes: attributes)
    }

    /// Makes every revalidation answer for the user `id` (`nil`: the provider's own answer).
    func answerRevalidations(as id: String?) { revalidatedID.withLock { $0 = id } }

    func endSession(_ credentials: Credentials, postLogoutURL: String) async -> SessionEnd {
        if let error = endFailure.withLock({ $0 }) { return SessionEnd(revocation: .failed(error)) }
        return await base.endSession(credentials, postLogoutURL: postLogoutURL)
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
    func session(for key: SessionKey) async throws -> Session? {
        try check()
        reads.withLock { $0 += 1 }
        return await base.session(for: key)
    }
    private let reads = Mutex(0)
    /// How many times a session was read.
    var sessionReads: Int { reads.withLock { $0 } }
    func recordActivity(for key: SessionKey, at date: Date) async throws { try check(); await base.recordActivity(for: key, at: date) }
    func recordValidation(_ validation: ValidationRecord) async throws {
        try check()
        validations.withLock { $0.append(validation.profile) }
        await base.recordValidation(validation)
    }
    func delete(_ key: SessionKey) async throws { try check(); await base.delete(key) }
    func deleteExpired(idleCutoff: Date, createdCutoff: Date) async throws -> Int {
        try check()
        return await base.deleteExpired(idleCutoff: idleCutoff, createdCutoff: createdCutoff)
    }
    func countLive(idleCutoff: Date, createdCutoff: Date) async throws -> Int {
        try check()
        liveCounts.withLock { $0 += 1 }
        return await base.countLive(idleCutoff: idleCutoff, createdCutoff: createdCutoff)
    }

    private let liveCounts = Mutex(0)
    /// How many times the live sessions were counted.
    var liveCountCalls: Int { liveCounts.withLock { $0 } }
    func deleteSessions(ofUser userID: String) async throws -> Int {
        try check()
        return await base.deleteSessions(ofUser: userID)
    }
    func statistics(idleCutoff: Date, createdCutoff: Date) async throws -> SessionStatistics {
        try check()
        return await base.statistics(idleCutoff: idleCutoff, createdCutoff: createdCutoff)
    }
    func checkHealth() async throws { try check() }
}

/// The memory store of spent login states, counting the states that reach it.
final class CountingSpentLoginStateStore: SpentLoginStateStore {
    private let base = MemorySpentLoginStateStore()
    private let spends = Mutex(0)

    var spendCount: Int { spends.withLock { $0 } }

    func spend(_ attempt: LoginAttempt, expiresAt: Date) async throws -> Bool {
        spends.withLock { $0 += 1 }
        return await base.spend(attempt, expiresAt: expiresAt)
    }

    func spendCredential(_ key: Data, expiresAt: Date) async throws -> Bool {
        await base.spendCredential(key, expiresAt: expiresAt)
    }

    func denyCredential(_ key: Data, until: Date) async throws {
        await base.denyCredential(key, until: until)
    }
}
