import Foundation

/// Percent-encoding for values placed into URLs that Gatehouse builds.
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
                encoded += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: encoded, as: UTF8.self)
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
