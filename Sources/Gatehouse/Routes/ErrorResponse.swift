import HTTPTypes
import Hummingbird

/// The contract's error answer: `{"error": CODE, "message": TEXT}`, or a short HTML page with the
/// same text and a link to `/login` when the request accepts `text/html`. Never cached.
enum ErrorResponse {
    static func make(_ error: GatewayError, for request: Request) -> Response {
        var headers = error.headers
        headers[.cacheControl] = "no-store"
        if ClientPreference.wantsHTML(request.headers) {
            let signOut = error.signOutURL.map {
                "<p><a class=\"button\" href=\"\(HTMLPage.escape($0))\">Sign out at the identity provider</a> to use another account.</p>"
            }
            let title = error.title ?? error.status.reasonPhrase
            let page = HTMLPage(
                title: title,
                body: """
                    <h1>\(HTMLPage.escape(title))</h1>
                    <p>\(HTMLPage.escape(error.message))</p>
                    \(signOut ?? "")<p><a href="/login">Sign in\(error.code == "not_allowed" ? " with another account" : "")</a></p>
                    """
            )
            return page.response(status: error.status, headers: headers)
        }
        return JSONResponse.make(status: error.status, headers: headers, ["error": .string(error.code), "message": .string(error.message)])
    }
}
