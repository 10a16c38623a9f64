/// A browser's request target as the app receives it: as sent when it is a well-formed URI
/// reference, else with only what a URI may not hold escaped.
///
/// AsyncHTTPClient reads the URL it is given through Foundation, which re-escapes a target that
/// is not well formed as a whole: after one stray `%` (`?q=100%`) every escape in it is escaped
/// again (`%20` becomes `%2520`), and the app would read another query. So what a URI may not hold
/// is escaped here first: a `%` not followed by two hex digits, spaces and controls, bytes beyond
/// ASCII, and `"` `<` `>` `[` `\` `]` `^` `` ` `` `{` `|` `}`, each as `%XX` of its UTF-8 bytes, as
/// a browser would have sent it; Foundation then leaves the target alone. A fragment, which no
/// request target carries, is dropped.
enum UpstreamRequestTarget {
    static func escaped(_ target: String) -> String {
        if let fragment = target.utf8.firstIndex(of: UInt8(ascii: "#")) {
            return escaped(String(target[..<fragment]))
        }
        guard needsEscaping(target) else { return target }
        let bytes = Array(target.utf8)
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + 16)
        for (index, byte) in bytes.enumerated() {
            if isKept(byte) || (byte == UInt8(ascii: "%") && index + 2 < bytes.count && isHex(bytes[index + 1]) && isHex(bytes[index + 2])) {
                result.append(byte)
            } else {
                PercentEncoding.appendEscape(of: byte, to: &result)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static func needsEscaping(_ target: String) -> Bool {
        var owedHexDigits = 0
        for byte in target.utf8 {
            if owedHexDigits > 0 {
                guard isHex(byte) else { return true }
                owedHexDigits -= 1
            } else if byte == UInt8(ascii: "%") {
                owedHexDigits = 2
            } else if !isKept(byte) {
                return true
            }
        }
        return owedHexDigits > 0
    }

    /// Unreserved and sub-delimiter characters, and `:` `@` `/` `?` (RFC 3986 §3.3, §3.4).
    private static func isKept(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
            UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="),
            UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "/"), UInt8(ascii: "?"):
            true
        default:
            false
        }
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        PercentEncoding.hexValue(byte) != nil
    }
}
