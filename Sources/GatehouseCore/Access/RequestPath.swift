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
    /// escapes of bytes that are not UTF-8 (``PercentEncoding/decodedStrictly(_:)``: an app, or
    /// AsyncHTTPClient, which proxies such a path as `/`, would read another path), or a control
    /// character once decoded. Such a path passes nothing.
    public static func readings(_ raw: String) -> [String]? {
        if let plain = plainPath(raw) { return [plain] }
        return decodedReadings(raw)
    }

    /// ``readings(_:)`` worked out in full: what a path that is not plain needs.
    static func decodedReadings(_ raw: String) -> [String]? {
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

    /// The path of `raw` (its query and fragment dropped) when every reading is that path itself:
    /// nothing encoded (`%`), no `\` or `;`, no empty, `.` or `..` segment (no `//`, no `/.`).
    /// Nearly every request's path is one, and reads without decoding (a proxied request reads its
    /// path twice). `nil` otherwise.
    static func plainPath(_ raw: String) -> String? {
        var previous: UInt8 = 0
        var end = raw.utf8.endIndex
        var first = true
        for index in raw.utf8.indices {
            let byte = raw.utf8[index]
            if first {
                guard byte == UInt8(ascii: "/") else { return nil }
                first = false
            }
            if byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") {
                end = index
                break
            }
            guard (0x21...0x7E).contains(byte), byte != UInt8(ascii: "%"), byte != UInt8(ascii: "\\"), byte != UInt8(ascii: ";") else { return nil }
            if previous == UInt8(ascii: "/"), byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".") { return nil }
            previous = byte
        }
        guard !first, raw.utf8.count <= 8192 else { return nil }
        // The query must be printable too: a reading is refused for any byte outside it.
        guard raw.utf8[end...].allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
        return String(raw[..<end])
    }

    /// The first of ``readings(_:)``: the path as most servers read it.
    public static func normalized(_ raw: String) -> String? {
        readings(raw)?.first
    }

    /// `segments` (the first is the empty one before the leading `/`) decoded and resolved.
    private static func resolve(_ segments: [String], splitting: Bool) -> String? {
        var resolved: [String] = []
        for segment in segments.dropFirst() {
            guard let decoded = PercentEncoding.decodedStrictly(segment),
                !decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            else { return nil }
            switch decoded {
            case "", ".": continue
            case "..": if !resolved.isEmpty { resolved.removeLast() }
            default: resolved.append(!splitting && (decoded.contains("/") || decoded.contains("\\")) ? segment : decoded)
            }
        }
        let last = segments.count > 1 ? segments.last.flatMap(PercentEncoding.decodedStrictly) ?? "" : ""
        let trailing = !resolved.isEmpty && (last.isEmpty || last == "." || last == "..")
        return "/" + resolved.joined(separator: "/") + (trailing ? "/" : "")
    }
}
