import Crypto
import Foundation

/// Proof Key for Code Exchange (RFC 7636) with S256: a fresh verifier per login, and the
/// challenge that goes to the authorization endpoint in its place.
enum PKCE {
    /// 256 random bits, base64url: 43 characters of the unreserved set, as §4.1 asks.
    static func newVerifier() -> String {
        Base64URL.encode(SecureRandom.bytes(32))
    }

    /// `BASE64URL(SHA256(verifier))`.
    static func challenge(for verifier: String) -> String {
        Base64URL.encode(SHA256.hash(data: Data(verifier.utf8)))
    }
}
