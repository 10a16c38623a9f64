import Crypto
import Foundation

/// Encrypts what a durable store keeps about a session (credentials, profile) with AES-256-GCM.
///
/// Each sealed value authenticates where it belongs: its session's ``SessionKey`` (its row), its
/// column (``Field``) and the session's creation time. So a value copied into another row or
/// another column does not open, and a row whose `created_at` was moved (to make an old session
/// young again) opens nothing. Values are marked with a version: the first release sealed with the
/// row's key alone, and such rows are still read (``open(_:field:of:createdAt:)``).
public struct SessionSealer: Sendable {
    /// The column a sealed value is kept in.
    public enum Field: String, Sendable {
        case credentials = "sealed_token"
        case profile = "sealed_profile"
    }

    private let key: SymmetricKey
    /// What begins a value sealed the second way.
    private static let versionMark = Data("G2".utf8)

    /// - Parameter key: the session encryption key, 32 bytes.
    init(key: SymmetricKey) {
        self.key = key
    }

    /// The version mark, then nonce, ciphertext and tag.
    public func seal(_ plaintext: Data, field: Field, of sessionKey: SessionKey, createdAt: Double) throws -> Data {
        // `combined` is non-nil for the default 12-byte nonce.
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Self.context(field: field, sessionKey: sessionKey, createdAt: createdAt))
        return Self.versionMark + box.combined!
    }

    /// Opens a value from ``seal(_:field:of:createdAt:)``, or one the first release sealed for the
    /// row; throws when it was altered, moved, or sealed with another key.
    public func open(_ sealed: Data, field: Field, of sessionKey: SessionKey, createdAt: Double) throws -> Data {
        if sealed.starts(with: Self.versionMark) {
            let context = Self.context(field: field, sessionKey: sessionKey, createdAt: createdAt)
            if let opened = try? AES.GCM.open(AES.GCM.SealedBox(combined: sealed.dropFirst(Self.versionMark.count)), using: key, authenticating: context) {
                return opened
            }
            // One first-release nonce in 65,536 begins with the mark too: it opens the old way, or not at all.
        }
        return try openFirstRelease(sealed, for: sessionKey)
    }

    /// The authenticated data of a value: the version, the column, the row and its creation time.
    private static func context(field: Field, sessionKey: SessionKey, createdAt: Double) -> Data {
        var context = Data("gatehouse.session.v2|\(field.rawValue)|".utf8)
        context.append(sessionKey.digest)
        withUnsafeBytes(of: createdAt.bitPattern.bigEndian) { context.append(contentsOf: $0) }
        return context
    }

    /// How the first release sealed: the row's key alone authenticated. Only tests still write this
    /// way, to check that such rows are read.
    func sealFirstRelease(_ plaintext: Data, for sessionKey: SessionKey) throws -> Data {
        try AES.GCM.seal(plaintext, using: key, authenticating: sessionKey.digest).combined!
    }

    private func openFirstRelease(_ sealed: Data, for sessionKey: SessionKey) throws -> Data {
        try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: sessionKey.digest)
    }
}
