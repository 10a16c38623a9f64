import Crypto
import Foundation

/// A login in flight: the nonce that ties the provider's callback to the browser that started it.
public struct PendingLogin: Sendable, Equatable {
    /// The single-use nonce: 256 random bits, base64url. Also the value of the state cookie.
    public let state: String
    /// Where to send the browser after the login, already validated.
    public let next: String?
    /// After this, the callback is refused.
    public let expiresAt: Date
}

extension PendingLogin {
    /// A fresh state: 256 random bits from the system's CSPRNG, base64url.
    static func newState() -> String {
        Base64URL.encode(SecureRandom.bytes(32))
    }

    /// Whether `state` has the shape of a state Gatehouse issues (43 base64url characters). Anything
    /// else is refused before any store lookup or comparison.
    public static func isWellFormed(_ state: String) -> Bool {
        state.utf8.count == 43 && Base64URL.decode(state)?.count == 32
    }

    /// Compares two states in constant time (the state cookie against the callback's state).
    public static func statesMatch(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices {
            difference |= left[index] ^ right[index]
        }
        return difference == 0
    }

    /// The key a shared store keeps a state under: its SHA-256, so the table holds no usable state.
    static func storageKey(for state: String) -> Data {
        Data(SHA256.hash(data: Data(state.utf8)))
    }
}

/// Where logins in flight wait for the provider's callback.
///
/// The state is single-use: ``complete(state:)`` hands a login back at most once, and never after
/// it expired. One gateway keeps them in memory; several share them in PostgreSQL, so a callback
/// may land on any instance.
public protocol PendingLoginStore: Sendable {
    /// How long a browser has to come back from the hosted page.
    var lifetime: TimeInterval { get }
    /// Starts a login and returns its fresh state.
    func begin(next: String?) async throws -> PendingLogin
    /// Takes the login for `state`: at most once, and never after it expired.
    func complete(state: String) async throws -> PendingLogin?
}
