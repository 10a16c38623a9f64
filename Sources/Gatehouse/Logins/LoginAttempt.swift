import Crypto
import Foundation

/// A login in flight: the single-use state that ties the provider's callback to the browser that
/// started it, where to go afterwards, and the provider's secrets for this attempt.
///
/// It travels sealed in the browser's login-attempt cookie (``LoginAttemptSealer``), so the
/// gateway keeps nothing per attempt and a flood of `/login` requests costs it no memory.
public struct LoginAttempt: Sendable, Equatable {
    /// The single-use nonce: 256 random bits, base64url. The provider brings it back.
    public let state: String
    /// Where to send the browser after the login, already validated.
    public let next: String?
    /// What the provider asked to have back (a PKCE verifier, a nonce).
    public let secrets: LoginSecrets
    /// When the login began; it is refused ``LoginAttempts/lifetime`` later.
    public let issuedAt: Date

    public init(state: String, next: String?, secrets: LoginSecrets, issuedAt: Date) {
        self.state = state
        self.next = next
        self.secrets = secrets
        self.issuedAt = issuedAt
    }
}

extension LoginAttempt {
    /// A fresh state: 256 random bits from the system's CSPRNG, base64url.
    static func newState() -> String {
        Base64URL.encode(SecureRandom.bytes(32))
    }

    /// Whether `state` has the shape of a state Gatehouse issues (43 base64url characters). Anything
    /// else is refused before any cookie is opened or any store is asked.
    public static func isWellFormed(_ state: String) -> Bool {
        state.utf8.count == 43 && Base64URL.decode(state)?.count == 32
    }

    /// Compares two states in constant time (the callback's state against the sealed one).
    public static func statesMatch(_ lhs: String, _ rhs: String) -> Bool {
        ConstantTime.equal(lhs, rhs)
    }

    /// The key a store of spent states keeps a state under: its SHA-256, so it holds no usable state.
    static func storageKey(for state: String) -> Data {
        Data(SHA256.hash(data: Data(state.utf8)))
    }
}
