import Crypto
import Foundation

/// Encrypts what a durable store keeps about a session (credentials, profile) with AES-256-GCM.
///
/// Each sealed value is bound to its session's ``SessionKey`` as authenticated data, so a value
/// copied into another row does not open.
public struct SessionSealer: Sendable {
    private let key: SymmetricKey

    /// - Parameter key: the session encryption key, 32 bytes.
    init(key: SymmetricKey) {
        self.key = key
    }

    /// Nonce, ciphertext and tag, in one blob.
    public func seal(_ plaintext: Data, for sessionKey: SessionKey) throws -> Data {
        // `combined` is non-nil for the default 12-byte nonce.
        try AES.GCM.seal(plaintext, using: key, authenticating: sessionKey.digest).combined!
    }

    /// Opens a blob from ``seal(_:for:)``; throws when it was altered, moved or sealed with another key.
    public func open(_ sealed: Data, for sessionKey: SessionKey) throws -> Data {
        try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: sessionKey.digest)
    }
}
