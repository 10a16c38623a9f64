import Foundation

/// Percent-encoding for values placed into URLs that Gatehouse builds.
public enum PercentEncoding {
    /// RFC 3986 unreserved characters; everything else is encoded.
    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )

    /// Encodes a value for use as one query component (or path segment).
    public static func encodeComponent(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// Appends `name=value` pairs to a URL, after `?` or `&` as the URL already needs.
    public static func appendingQuery(_ items: KeyValuePairs<String, String>, to url: String) -> String {
        let query = items.map { "\(encodeComponent($0.key))=\(encodeComponent($0.value))" }.joined(separator: "&")
        return url + (url.contains("?") ? "&" : "?") + query
    }
}
