import Crypto
import Foundation

/// Encrypts what a durable store keeps about a session (token, profile) with AES-256-GCM.
///
/// Each sealed value is bound to its session's ``SessionKey`` as authenticated data, so a value
/// copied into another row does not open.
public struct SessionSealer: Sendable {
    // Kept as bytes: `SymmetricKey` is not `Sendable` in the swift-crypto 3 line this package builds with.
    private let keyBytes: Data
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// - Parameter keyBytes: 32 bytes of key material.
    public init(keyBytes: Data) throws {
        guard keyBytes.count == 32 else { throw SessionSealerError.wrongKeySize(keyBytes.count) }
        self.keyBytes = keyBytes
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

/// Why a ``SessionSealer`` could not be made.
public enum SessionSealerError: Error, CustomStringConvertible {
    case wrongKeySize(Int)

    public var description: String {
        switch self {
        case .wrongKeySize(let bytes): "the session encryption key must be 32 bytes, not \(bytes)"
        }
    }
}
