import Foundation

/// The path of a forwarded request (`X-Original-URI`, `X-Forwarded-Uri`) as route prefixes are
/// matched against it.
///
/// Servers disagree on what a path means: one keeps `%2F` inside its segment, another decodes it
/// into a separator; Tomcat drops `;parameters`; IIS takes `\` for `/`. Gatehouse reads a path
/// each of these ways and a request must pass the requirement of every reading, so no reading an
/// app might make escapes the rules.
public enum RequestPath {
    /// Every reading of `raw` (the query and fragment dropped, each segment percent-decoded once,
    /// `.` and `..` resolved, empty segments dropped): first as servers that keep an encoded
    /// separator in its segment read it, then, when it differs, as those that decode `%2F` and
    /// `%5C` into separators, take `\` for `/` and drop `;parameters`.
    ///
    /// `nil` for a value that is not an origin-form path: not starting with `/`, holding a byte
    /// outside printable ASCII (browsers and proxies percent-encode), malformed percent-encoding,
    /// or a control character once decoded. Such a path passes nothing.
    public static func readings(_ raw: String) -> [String]? {
        let bytes = Array(raw.utf8)
        guard bytes.count <= 8192, bytes.first == UInt8(ascii: "/"), bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
        let path = String(decoding: bytes.prefix { $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }, as: UTF8.self)
        guard let kept = resolve(path.split(separator: "/", omittingEmptySubsequences: false).map(String.init), splitting: false) else { return nil }
        let separated = path.replacingOccurrences(of: "%2F", with: "/", options: .caseInsensitive)
            .replacingOccurrences(of: "%5C", with: "/", options: .caseInsensitive)
            .replacingOccurrences(of: "\\", with: "/")
        let segments = separated.split(separator: "/", omittingEmptySubsequences: false).map { String($0.prefix { $0 != ";" }) }
        guard let split = resolve(segments, splitting: true) else { return nil }
        return split == kept ? [kept] : [kept, split]
    }

    /// The first of ``readings(_:)``: the path as most servers read it.
    public static func normalized(_ raw: String) -> String? {
        readings(raw)?.first
    }

    /// `segments` (the first is the empty one before the leading `/`) decoded and resolved.
    private static func resolve(_ segments: [String], splitting: Bool) -> String? {
        var resolved: [String] = []
        for segment in segments.dropFirst() {
            guard let decoded = segment.removingPercentEncoding,
                !decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            else { return nil }
            switch decoded {
            case "", ".": continue
            case "..": if !resolved.isEmpty { resolved.removeLast() }
            default: resolved.append(!splitting && (decoded.contains("/") || decoded.contains("\\")) ? segment : decoded)
            }
        }
        let last = segments.count > 1 ? segments.last?.removingPercentEncoding ?? "" : ""
        let trailing = !resolved.isEmpty && (last.isEmpty || last == "." || last == "..")
        return "/" + resolved.joined(separator: "/") + (trailing ? "/" : "")
    }
}
