/// An access token issued by the identity provider.
///
/// The value is only reachable through ``value``; printing, interpolating or dumping the token
/// shows a redaction, so a token cannot reach a log line or an error message by accident.
public struct AccessToken: RedactedSecret {
    /// The raw token, for the one place that must send it: the provider's `Authorization` header.
    public let value: String

    /// The longest token accepted from a browser; LoginRadius tokens are 36-character UUIDs.
    public static let maximumLength = 2048

    public init(_ value: String) {
        self.value = value
    }

    /// Accepts a token only when it is non-empty, at most ``maximumLength`` characters, and made of
    /// the characters of a bearer token (RFC 6750 `b64token`), so it can go into a header unchanged.
    public init?(validating candidate: some StringProtocol) {
        guard Self.isWellFormed(candidate, maximumLength: Self.maximumLength) else { return nil }
        self.value = String(candidate)
    }

    /// Whether `candidate` is non-empty, at most `maximumLength` bytes, and made of RFC 6750
    /// `b64token` characters only.
    public static func isWellFormed(_ candidate: some StringProtocol, maximumLength: Int) -> Bool {
        !candidate.isEmpty && candidate.utf8.count <= maximumLength && candidate.utf8.allSatisfy(isTokenByte)
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
            UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
            true
        default:
            false
        }
    }
}
