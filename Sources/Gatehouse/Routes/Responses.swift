import Foundation
import HTTPTypes
import Hummingbird

/// Answers shared by the routes.
enum Responses {
    /// `303 See Other` to `location`, never cached.
    static func seeOther(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// The answer to a request that needs a session and has none: browsers are sent to the login
    /// page (to come back to `next`), other clients get 401 JSON.
    static func signInRequired(_ request: Request, next: String?, loginPath: String = "/login") -> Response {
        guard ClientPreference.wantsHTML(request.headers) else {
            return ErrorResponse.make(.notAuthenticated, for: request)
        }
        let query = next.map { "?next=" + Self.encodeQueryValue($0) } ?? ""
        return seeOther(loginPath + query)
    }

    /// Percent-encodes a query value, keeping `/` (allowed in a query by RFC 3986) readable.
    static func encodeQueryValue(_ value: String) -> String {
        PercentEncoding.encodeComponent(value).replacingOccurrences(of: "%2F", with: "/")
    }
}
