import Foundation

/// Percent-encoding for values placed into URLs that Gatehouse builds, and strict decoding of
/// what arrives in them.
public enum PercentEncoding {
    /// Encodes a value for use as one query component (or path segment): every UTF-8 byte but
    /// RFC 3986's unreserved characters becomes `%XX`.
    public static func encodeComponent(_ value: String) -> String {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(value.utf8.count * 3)
        for byte in value.utf8 {
            if isUnreserved(byte) {
                encoded.append(byte)
            } else {
                appendEscape(of: byte, to: &encoded)
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// Appends `%XX` for `byte` (upper-case hex digits).
    public static func appendEscape(of byte: UInt8, to bytes: inout [UInt8]) {
        bytes += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
    }

    /// `text` with its escapes decoded; `nil` when one is malformed (`%` without two hex digits
    /// after it) or the decoded bytes are not UTF-8.
    ///
    /// Not Foundation's `removingPercentEncoding`, which on Linux reads some bytes that are not
    /// UTF-8 (`%A9`) as U+FFFD: a value read so means one thing here and another to whoever reads
    /// the bytes.
    public static func decodedStrictly(_ text: some StringProtocol) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        let bytes = Array(text.utf8)
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "%") else {
                decoded.append(bytes[index])
                index += 1
                continue
            }
            guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else { return nil }
            decoded.append(high << 4 | low)
            index += 3
        }
        return String(validating: decoded, as: UTF8.self)
    }

    /// The value of a hex digit, `nil` for any other byte.
    public static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Appends `name=value` pairs to a URL, after `?` or `&` as the URL already needs.
    public static func appendingQuery(_ items: KeyValuePairs<String, String>, to url: String) -> String {
        appendingQuery(items.map { ($0.key, $0.value) }, to: url)
    }

    /// Appends `name=value` pairs to a URL, in order, after `?` or `&` as the URL already needs.
    public static func appendingQuery(_ items: [(String, String)], to url: String) -> String {
        url + (url.contains("?") ? "&" : "?") + formEncoded(items)
    }

    /// `name=value&…` with every name and value percent-encoded: a query, or an
    /// `application/x-www-form-urlencoded` body.
    public static func formEncoded(_ items: [(String, String)]) -> String {
        items.map { "\(encodeComponent($0.0))=\(encodeComponent($0.1))" }.joined(separator: "&")
    }
}
