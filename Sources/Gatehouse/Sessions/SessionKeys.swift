import Crypto
import Foundation

/// The keys that come from the one session encryption key (`sessions.encryptionKey`, or the key
/// file): each use gets a key of its own, so no key serves two purposes.
///
/// Sessions are sealed with the key itself, as every release has done; the others are derived
/// from it with HKDF-SHA256, each under its own label.
public struct SessionKeys: Sendable {
    /// Seals what durable stores keep about a session.
    public let sealer: SessionSealer
    /// Seals the login-attempt cookies (see ``LoginAttemptSealer``).
    let loginAttempts: SymmetricKey
    /// Keys a user's id into ``UserKey``s.
    private let users: SymmetricKey

    /// - Parameter keyBytes: 32 bytes of key material.
    public init(keyBytes: Data) throws {
        guard keyBytes.count == 32 else { throw SessionKeysError.wrongKeySize(keyBytes.count) }
        let master = SymmetricKey(data: keyBytes)
        sealer = SessionSealer(key: master)
        loginAttempts = Self.derive(from: master, label: "gatehouse login attempts v1")
        users = Self.derive(from: master, label: "gatehouse user keys v1")
    }

    /// Keys for one process only (the memory store with no configured key): fresh random bytes.
    public static func ephemeral() -> SessionKeys {
        // 32 bytes always make keys.
        try! SessionKeys(keyBytes: Data(SecureRandom.bytes(32)))
    }

    /// The key a store finds a user's sessions by: an HMAC of the user id, so a stolen table
    /// does not list who is signed in.
    public func userKey(for userID: String) -> UserKey {
        UserKey(digest: Data(HMAC<SHA256>.authenticationCode(for: Data(userID.utf8), using: users)))
    }

    private static func derive(from master: SymmetricKey, label: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: master, info: Data(label.utf8), outputByteCount: 32)
    }
}

/// The stored form of a user id: its HMAC under ``SessionKeys``. Useless without the key.
public struct UserKey: Sendable, Hashable {
    /// The 32 digest bytes.
    public let digest: Data

    public init(digest: Data) {
        self.digest = digest
    }
}

/// Why ``SessionKeys`` could not be made.
public enum SessionKeysError: Error, CustomStringConvertible {
    case wrongKeySize(Int)

    public var description: String {
        switch self {
        case .wrongKeySize(let bytes): "the session encryption key must be 32 bytes, not \(bytes)"
        }
    }
}
