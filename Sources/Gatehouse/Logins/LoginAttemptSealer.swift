import Crypto
import Foundation

/// Seals a ``LoginAttempt`` into a cookie value the browser can neither read nor forge, and opens
/// it again: AES-256-GCM under a key derived from the session key, with the cookie's name as
/// authenticated data, so a value moved to another cookie does not open.
struct LoginAttemptSealer: Sendable {
    private let key: SymmetricKey

    init(keys: SessionKeys) {
        self.key = keys.loginAttempts
    }

    /// The cookie value for `attempt` under the cookie `name`: base64url of nonce, ciphertext and tag.
    func seal(_ attempt: LoginAttempt, cookieName name: String) -> String {
        let secrets = (try? JSONEncoder().encode(attempt.secrets.values)) ?? Data("{}".utf8)
        let plaintext = LengthPrefixedFields.encode(
            version: Self.version,
            [Data(attempt.state.utf8), attempt.next.map { Data($0.utf8) }, Data(String(attempt.issuedAt.timeIntervalSince1970).utf8), secrets]
        )
        // Sealing with a 32-byte key and the default nonce cannot fail; `combined` is set for that nonce.
        let sealed = try! AES.GCM.seal(plaintext, using: key, authenticating: Data(name.utf8)).combined!
        return Base64URL.encode(sealed)
    }

    /// The attempt sealed in `value` under `name`; `nil` for anything else, whatever the bytes.
    func open(_ value: some StringProtocol, cookieName name: String) -> LoginAttempt? {
        guard value.utf8.count <= Self.maximumValueLength, let bytes = Base64URL.decode(value),
            let box = try? AES.GCM.SealedBox(combined: bytes),
            let plaintext = try? AES.GCM.open(box, using: key, authenticating: Data(name.utf8)),
            let fields = LengthPrefixedFields.decode(plaintext, version: Self.version, count: 4),
            let state = fields[0]?.utf8Text, let issued = fields[2]?.utf8Text.flatMap(TimeInterval.init),
            let secretsData = fields[3], let secrets = try? JSONDecoder().decode([String: String].self, from: secretsData)
        else { return nil }
        let next = fields[1].map { $0.utf8Text }
        guard next != .some(nil) else { return nil }
        return LoginAttempt(state: state, next: next ?? nil, secrets: LoginSecrets(secrets), issuedAt: Date(timeIntervalSince1970: issued))
    }

    private static let version: UInt8 = 1
    /// Longer than any value ``seal(_:cookieName:)`` makes (a 2 KiB `next` and the secrets).
    private static let maximumValueLength = 4096
}
