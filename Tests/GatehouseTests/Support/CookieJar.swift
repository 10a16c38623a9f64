import Foundation
import HTTPTypes

/// The cookies a browser would hold, fed from `Set-Cookie` headers (path scoping ignored).
struct CookieJar {
    private(set) var values: [String: String] = [:]

    mutating func update(from headers: HTTPFields) {
        for header in headers[values: .setCookie] {
            let pair = header.split(separator: ";", maxSplits: 1)[0]
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).trimmingCharacters(in: .whitespaces)
            let value = parts.count > 1 ? String(parts[1]) : ""
            let expired = header.lowercased().contains("max-age=0")
            values[name] = expired || value.isEmpty ? nil : value
        }
    }

    subscript(name: String) -> String? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// The login-attempt cookies the jar holds (`{session cookie}_state_…`), by name.
    func attempts(of sessionCookie: String = "gatehouse_session") -> [String: String] {
        values.filter { $0.key.hasPrefix(sessionCookie + "_state_") }
    }

    /// The `Cookie` header for a request, or `nil` when the jar is empty.
    var header: String? {
        values.isEmpty ? nil : values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
    }

    func headers(accept: String? = nil) -> HTTPFields {
        var fields = HTTPFields()
        if let header { fields[.cookie] = header }
        if let accept { fields[.accept] = accept }
        return fields
    }
}

/// The `Set-Cookie` headers whose cookie name starts with `prefix`.
func setCookieHeaders(prefixed prefix: String, in headers: HTTPFields) -> [String] {
    headers[values: .setCookie].filter { $0.hasPrefix(prefix) }
}

/// The `Set-Cookie` header that sets `name`, when the response has one.
func setCookieHeader(named name: String, in headers: HTTPFields) -> String? {
    headers[values: .setCookie].first { $0.hasPrefix(name + "=") }
}
