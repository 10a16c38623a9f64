import Foundation

/// A JWS in compact serialization (`header.payload.signature`), split and decoded but not
/// verified: the header says which key and algorithm to verify with, the payload holds the claims.
public struct CompactJWT: Sendable {
    /// The members of the JOSE header Gatehouse reads.
    public struct Header: Sendable, Equatable, Decodable {
        public let alg: String
        public let kid: String?
        public let typ: String?
        public let crit: [String]?
    }

    public let header: Header
    /// The payload's JSON text.
    public let payload: Data

    /// The algorithms an ID token may be signed with: RSA and elliptic-curve signatures only, so
    /// `none` and HMAC (whose "key" would be the provider's public key) are refused outright.
    public static let acceptedAlgorithms: Set<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]

    /// Splits and decodes `token`, refusing anything but a three-part JWS whose header names an
    /// accepted algorithm and no critical extension.
    public init(_ token: String) throws(ProviderError) {
        guard token.utf8.count <= OpenIDTokenResponse.maximumTokenLength else { throw Self.rejected("is too long") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[2].isEmpty else { throw Self.rejected("is not a signed JWT in compact form") }
        guard let headerBytes = Self.base64URLDecoded(parts[0]), let payloadBytes = Self.base64URLDecoded(parts[1]) else {
            throw Self.rejected("is not base64url")
        }
        guard let header = try? JSONDecoder().decode(Header.self, from: headerBytes) else {
            throw Self.rejected("has a header that is not a JOSE header")
        }
        guard Self.acceptedAlgorithms.contains(header.alg) else {
            throw Self.rejected("is signed with \(header.alg.prefix(20)), which Gatehouse does not accept")
        }
        guard header.crit == nil else { throw Self.rejected("names critical header extensions") }
        self.header = header
        self.payload = payloadBytes
    }

    /// A refused-token error saying what is wrong with the ID token.
    public static func rejected(_ why: String) -> ProviderError {
        .tokenRejected(reason: "the ID token \(why)")
    }

    /// Unpadded (or padded) base64url, strictly: anything outside the alphabet is refused.
    static func base64URLDecoded(_ text: Substring) -> Data? {
        var base64 = ""
        base64.reserveCapacity(text.utf8.count + 3)
        for character in text.unicodeScalars {
            switch character {
            case "A"..."Z", "a"..."z", "0"..."9": base64.unicodeScalars.append(character)
            case "-": base64 += "+"
            case "_": base64 += "/"
            default: return nil
            }
        }
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
