import Foundation

/// The path of a forwarded request (`X-Original-URI`, `X-Forwarded-Uri`) as a route prefix is
/// matched against it.
public enum RequestPath {
    /// The path without query or fragment, each segment percent-decoded once, with `.` and `..`
    /// segments resolved and empty segments dropped, so `/public/%2e%2e//admin` is `/admin`. A
    /// segment whose decoding holds a `/` stays encoded (`/api/group%2Fproject`): it is one
    /// segment to the app as well. `nil` for a value that does not start with `/`, whose
    /// encoding is malformed, or that holds a control character.
    public static func normalized(_ raw: String) -> String? {
        let path = raw.prefix { $0 != "?" && $0 != "#" }
        guard path.hasPrefix("/"), path.utf8.count <= 8192 else { return nil }
        var segments: [String] = []
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for part in parts {
            guard let decoded = String(part).removingPercentEncoding, !decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            else { return nil }
            switch decoded {
            case "", ".": continue
            case "..": if !segments.isEmpty { segments.removeLast() }
            default: segments.append(decoded.contains("/") ? String(part) : decoded)
            }
        }
        let last = parts.last.flatMap { String($0).removingPercentEncoding } ?? ""
        let trailing = !segments.isEmpty && (last.isEmpty || last == "." || last == "..")
        return "/" + segments.joined(separator: "/") + (trailing ? "/" : "")
    }
}
