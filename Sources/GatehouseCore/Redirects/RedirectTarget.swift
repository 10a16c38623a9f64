/// A place on this gateway's own origin that a browser may be sent to: the one validator for
/// `next`, `redirects.afterLogin` and `redirects.afterLogout`.
///
/// A target is accepted only as a relative path: one leading `/`, not followed by `/` or `\`, no
/// `\` anywhere, printable ASCII only (no control characters, whitespace, or look-alikes such as the
/// fullwidth solidus), at most ``maximumLength`` bytes. Values arriving in a query are validated
/// after exactly one strict percent-decode (``init(queryValue:)``), so `%2F%2Fevil.example` is
/// refused, `%252F` stays a harmless path segment, and a value that does not decode is refused.
public struct RedirectTarget: Sendable, Hashable, CustomStringConvertible {
    /// The longest target accepted.
    public static let maximumLength = 2048

    /// The path as validated.
    public let path: String

    public init?(validating candidate: some StringProtocol) {
        let bytes = Array(candidate.utf8)
        guard bytes.count <= Self.maximumLength, bytes.first == UInt8(ascii: "/") else { return nil }
        if bytes.count > 1, bytes[1] == UInt8(ascii: "/") { return nil }
        guard !bytes.contains(UInt8(ascii: "\\")) else { return nil }
        guard bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
        self.path = String(candidate)
    }

    /// Validates a raw (still percent-encoded) query value after exactly one strict decode;
    /// `nil` when the value does not decode to UTF-8 or is not a valid target.
    public init?(queryValue raw: some StringProtocol) {
        guard let decoded = PercentEncoding.decodedStrictly(raw) else { return nil }
        self.init(validating: decoded)
    }

    /// The target named by the `name` parameter of a raw query string, when it appears exactly once
    /// and is valid; `nil` otherwise (absent, repeated, undecodable or hostile).
    public static func fromQuery(_ query: String?, parameter name: String = "next") -> RedirectTarget? {
        guard let query else { return nil }
        let values = query.split(separator: "&").compactMap { pair -> Substring? in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.first == Substring(name) ? (parts.count > 1 ? parts[1] : "") : nil
        }
        guard values.count == 1 else { return nil }
        return RedirectTarget(queryValue: values[0])
    }

    /// `candidate` when it is a valid target, else `fallback`.
    public static func resolve(_ candidate: String?, fallback: RedirectTarget) -> RedirectTarget {
        candidate.flatMap(RedirectTarget.init(validating:)) ?? fallback
    }

    /// The target as a `Location` header value (it is printable ASCII already).
    public var locationHeaderValue: String { path }

    public var description: String { path }
}
