import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging

/// `GET` and `POST /logout`: ends the local session, then the session at the provider.
/// `POST /logout` with `everywhere=1` (in the form or the query) ends every session of the user,
/// in every browser.
///
/// A `GET /logout` that another site started (`Sec-Fetch-Site: cross-site` or `same-site`: a link
/// or an image elsewhere) logs nobody out: it gets a page whose button posts the logout, which
/// another site cannot do with the session cookie (`SameSite=Lax`).
///
/// Added to a group whose ``SessionMiddleware`` does not revalidate: logging out needs no fresh
/// confirmation, only a live session.
struct LogoutController<Context: AuthRequestContext<Session>>: Sendable {
    let authenticator: SessionAuthenticator
    let signOut: ProviderSignOut

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("logout") { request, context in
            if context.identity != nil, Self.isStartedElsewhere(request) { return Self.confirmation() }
            return await logout(request, everywhere: false, context: context)
        }
        group.post("logout") { request, context in
            var request = request
            guard let everywhere = await Self.asksForEverywhere(&request) else {
                return ErrorResponse.make(
                    GatewayError(.badRequest, code: "bad_form", message: "The logout form is not one this gateway sends; nothing was logged out."),
                    for: request
                )
            }
            return await logout(request, everywhere: everywhere, context: context)
        }
        // HEAD is safe: it must not end a session, as the GET it would otherwise mirror does.
        group.on("logout", method: .head) { _, _ in
            Response(status: .methodNotAllowed, headers: [.allow: "GET, POST"])
        }
    }

    func logout(_ request: Request, everywhere: Bool, context: Context) async -> Response {
        let logger = context.logger
        guard let session = context.identity else {
            return Responses.signInRequired(request, next: nil)
        }
        // End the local session first: it must end even if the provider call fails or hangs.
        var localError: GatewayError?
        var ended = 1
        do {
            try await authenticator.end(session)
            if everywhere {
                ended += try await authenticator.sessions.endAll(ofUser: session.profile.id)
            }
        } catch {
            logger.error("The session store failed to delete a session", metadata: ["error.type": "\(type(of: error))"])
            localError = .storeUnavailable
        }
        let end = await signOut.end(session.credentials, logger: logger)
        logger.info(
            "Signed out",
            metadata: ["user.id": "\(session.profile.id)", "provider.revoked": "\(end.revoked)", "sessions.ended": "\(ended)"]
        )

        var response: Response
        if let localError {
            response = ErrorResponse.make(localError, for: request)
        } else if ClientPreference.wantsHTML(request.headers) {
            response = Responses.seeOther(end.browserURL ?? signOut.redirects.value.afterLogout.locationHeaderValue)
        } else {
            var body: [String: JSONValue] = ["loggedOut": .bool(true), "providerRevoked": .bool(end.revoked)]
            if everywhere { body["sessionsEnded"] = .integer(Int64(ended)) }
            response = JSONResponse.make(headers: [.cacheControl: "no-store"], body)
        }
        response.setCookie(authenticator.cookies.expiredSession())
        return response
    }

    /// Whether the browser says another site started this request. Requests without the header
    /// (scripts, older browsers, a bookmark's `none`) are taken as the user's own.
    static func isStartedElsewhere(_ request: Request) -> Bool {
        guard let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!]?.lowercased() else { return false }
        return site == "cross-site" || site == "same-site"
    }

    /// The page a logout link from elsewhere lands on: the user decides.
    static func confirmation() -> Response {
        HTMLPage(
            title: "Log out?",
            body: """
                <h1>Log out?</h1>
                <p>A link on another site asked to log you out of this gateway. Nothing has changed yet.</p>
                <form class="inline" method="post" action="/logout"><button type="submit">Log out</button></form>
                <p><a href="/">Stay signed in</a></p>
                """
        ).response(headers: [.cacheControl: "no-store"])
    }

    /// Whether the request says `everywhere=1` (or `true`), in the query or an urlencoded form;
    /// `nil` for a form that cannot be read (over 4 KiB, or not urlencoded), which must not be
    /// taken for a plain logout.
    private static func asksForEverywhere(_ request: inout Request) async -> Bool? {
        func yes(_ value: Substring?) -> Bool { value == "1" || value == "true" || value == "on" }
        if yes(request.uri.queryParameters["everywhere"]) { return true }
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else { return false }
        guard let body = try? await request.collectBody(upTo: 4096),
            let form = try? URLEncodedFormDecoder().decode(LogoutForm.self, from: String(buffer: body))
        else { return nil }
        return yes(form.everywhere.map { Substring($0) })
    }

    private struct LogoutForm: Decodable {
        var everywhere: String?
    }
}
