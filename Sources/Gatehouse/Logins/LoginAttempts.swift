import Foundation

/// The gateway's side of every login, whatever the provider: attempts are made, sealed into the
/// browser, opened when the provider sends it back, and spent exactly once.
public struct LoginAttempts: Sendable {
    /// How long a browser has to come back from the provider.
    public let lifetime: TimeInterval
    let sealer: LoginAttemptSealer
    let spent: any SpentLoginStateStore
    private let now: @Sendable () -> Date

    public init(keys: SessionKeys, spent: any SpentLoginStateStore, lifetime: TimeInterval = 600, now: @escaping @Sendable () -> Date = Date.init) {
        self.sealer = LoginAttemptSealer(keys: keys)
        self.spent = spent
        self.lifetime = lifetime
        self.now = now
    }

    /// A fresh state for a login about to begin.
    func newState() -> String {
        LoginAttempt.newState()
    }

    /// The attempt for `state`, begun now.
    func attempt(state: String, next: String?, secrets: LoginSecrets) -> LoginAttempt {
        LoginAttempt(state: state, next: next, secrets: secrets, issuedAt: now())
    }

    /// Whether the attempt is past its lifetime (or claims to be issued in the future, which no
    /// attempt this gateway sealed can).
    func isExpired(_ attempt: LoginAttempt) -> Bool {
        let age = now().timeIntervalSince(attempt.issuedAt)
        return age >= lifetime || age < -60
    }

    /// Spends `attempt`'s state: `true` the first time, never again.
    func spend(_ attempt: LoginAttempt) async throws -> Bool {
        try await spent.spend(attempt, expiresAt: attempt.issuedAt.addingTimeInterval(lifetime))
    }
}
