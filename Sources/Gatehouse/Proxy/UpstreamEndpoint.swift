import HTTPTypes
import Hummingbird

/// One upstream's requests (contract §10): gated by the access rules' route policy for the path,
/// then forwarded with the identity the app may trust.
///
/// The policy is read from every reading of the path (``RequestPath/readings(_:)``), as `/auth`
/// reads a forwarded one, and the request must pass them all: the app gets the path as sent, and
/// no way an app might read it escapes the rules. A public path is forwarded without a session
/// and without identity headers. Otherwise: no session is 303 to `/login?next=` for a browser
/// and 401 for anything else, a user the rules refuse is 403, and a passing request is forwarded
/// with `X-Forwarded-User` and the rest, its answer marked `Cache-Control: no-store` (it depends on the session).
struct UpstreamEndpoint<Context: GatewayContext>: HTTPResponder {
    let forwarder: UpstreamForwarder
    let authenticator: SessionAuthenticator
    let access: Reloadable<AccessControl>

    func respond(to request: Request, context: Context) async throws -> Response {
        guard let target = request.head.path, let readings = RequestPath.readings(target) else { throw GatewayError.notAPath }
        // Hummingbird hands upgrades to a route as plain requests; passing one on would need the
        // connection itself, which a route does not have.
        if request.headers[.upgrade] != nil { throw GatewayError.upgradeUnsupported }
        let control = access.value
        let trusted = control.trustedProxies.contains(context.remoteAddress)
        let requirements = control.policy.requirements(forReadings: readings)
        if requirements.allSatisfy({ $0 == .public }) {
            return try await forwarder.forward(
                request,
                peer: context.remoteAddress,
                peerIsTrusted: trusted,
                identity: nil,
                eventLoop: context.eventLoop,
                logger: context.logger
            )
        }
        switch try await authenticator.authenticate(request, logger: context.logger) {
        case .signedOut(let staleCookie):
            var response = Responses.signInRequired(request, next: target)
            if staleCookie { response.setCookie(authenticator.cookies.expiredSession()) }
            return response
        case .refused(let refusal):
            var response = ErrorResponse.make(.notAllowed(refusal), for: request)
            response.setCookie(authenticator.cookies.expiredSession())
            return response
        case .signedIn(let session):
            let identity = control.identity(of: session.profile)
            guard requirements.allSatisfy({ $0.admits(identity) }),
                let passed = PassedIdentity(
                    identity,
                    session: session,
                    passAccessToken: forwarder.upstream.passAccessToken,
                    requireVerifiedEmail: control.policy.sessionRule.requireVerifiedEmail
                )
            else {
                let account = AccessRefusal.accountName(of: identity, name: session.profile.name)
                return ErrorResponse.make(.notAllowedHere(account: account), for: request)
            }
            var response = try await forwarder.forward(
                request,
                peer: context.remoteAddress,
                peerIsTrusted: trusted,
                identity: passed,
                eventLoop: context.eventLoop,
                logger: context.logger
            )
            response.headers[.cacheControl] = "no-store"
            return response
        }
    }
}

extension GatewayError {
    /// A signed-in user the path's rules do not let through; the session stands.
    static func notAllowedHere(account: String) -> GatewayError {
        var error = GatewayError(.forbidden, code: "not_allowed", message: "You are signed in as \(account), but this account may not open this page.")
        error.title = "Not allowed here"
        return error
    }
}
