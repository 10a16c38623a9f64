/// A place on this gateway's own origin that a browser may be sent to: the one validator for
/// `next`, `redirects.afterLogin` and `redirects.afterLogout`.
///
/// A target is accepted only as a relative path: one leading `/`, not followed by `/` or `\`, no
/// `\` anywhere, no control characters or whitespace, at most ``maximumLength`` bytes. Values
/// arriving in a query are validated after exactly one percent-decode (the one the query parser
/// does), so `%2F%2Fevil.example` is refused and `%252F` stays a harmless path segment.
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
        guard candidate.unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && !Self.isControl($0) }) else { return nil }
        self.path = String(candidate)
    }

    /// `candidate` when it is a valid target, else `fallback`.
    public static func resolve(_ candidate: String?, fallback: RedirectTarget) -> RedirectTarget {
        candidate.flatMap(RedirectTarget.init(validating:)) ?? fallback
    }

    /// The target as a `Location` header value: non-ASCII bytes percent-encoded, the rest as is.
    public var locationHeaderValue: String {
        var result = ""
        for byte in path.utf8 {
            if byte < 0x80 {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += "%" + String(byte, radix: 16, uppercase: true)
            }
        }
        return result
    }

    public var description: String { path }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .unassigned, .surrogate, .privateUse:
            true
        default:
            false
        }
    }
}
