import HTTPTypes
import Hummingbird
import HummingbirdAuth

/// Puts the request's live session on the context, for the route groups that read one.
///
/// With `revalidate`, a session whose last confirmation is too old is confirmed with the provider
/// first (``SessionAuthenticator``), and checked against the access rules; a failure to do so is
/// thrown as a ``GatewayError``, a refused session is noted on the context. A session cookie that
/// leads to no session is expired in the response.
struct SessionMiddleware<Context: GatewayContext>: AuthenticatorMiddleware {
    typealias Identity = Session

    let authenticator: SessionAuthenticator
    let revalidate: Bool

    func authenticate(request: Request, context: Context) async throws -> Session? {
        guard case .signedIn(let session) = try await authenticator.authenticate(request, logger: context.logger, revalidate: revalidate) else {
            return nil
        }
        return session
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let outcome = try await authenticator.authenticate(request, logger: context.logger, revalidate: revalidate)
        var context = context
        var staleCookie = false
        switch outcome {
        case .signedIn(let session): context.identity = session
        case .signedOut(let stale): staleCookie = stale
        case .refused(let refusal): (context.refusal, staleCookie) = (refusal, true)
        }
        var response = try await next(request, context)
        if staleCookie, !response.setsCookie(named: authenticator.cookies.name) {
            response.setCookie(authenticator.cookies.expiredSession())
        }
        return response
    }
}

/// Answers a request that reached a gated route without a session: browsers are sent to the
/// login page (to come back to where they were), other clients get 401 JSON. A user the access
/// rules refused gets 403 `not_allowed`.
struct RequireSessionMiddleware<Context: GatewayContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let refusal = context.refusal { return ErrorResponse.make(.notAllowed(refusal), for: request) }
        guard context.identity != nil else {
            let query = request.uri.query.map { "?" + $0 } ?? ""
            return Responses.signInRequired(request, next: request.uri.path + query)
        }
        return try await next(request, context)
    }
}

extension Response {
    /// Whether the response already sets (or expires) the cookie `name`.
    func setsCookie(named name: String) -> Bool {
        headers[values: .setCookie].contains { $0.hasPrefix(name + "=") }
    }
}
