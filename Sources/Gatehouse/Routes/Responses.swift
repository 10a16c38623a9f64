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
    /// page (to come back to `next`), other clients get 401 JSON. A stale cookie is cleared.
    static func signInRequired(_ request: Request, next: String?, clearing cookie: Cookie?, loginPath: String = "/login") -> Response {
        var response: Response
        if ClientPreference.wantsHTML(request.headers) {
            let query = next.map { "?next=" + Self.encodeQueryValue($0) } ?? ""
            response = seeOther(loginPath + query)
        } else {
            response = ErrorResponse.make(.notAuthenticated, for: request)
        }
        if let cookie { response.setCookie(cookie) }
        return response
    }

    /// Percent-encodes a query value, keeping `/` (allowed in a query by RFC 3986) readable.
    static func encodeQueryValue(_ value: String) -> String {
        PercentEncoding.encodeComponent(value).replacingOccurrences(of: "%2F", with: "/")
    }
}
