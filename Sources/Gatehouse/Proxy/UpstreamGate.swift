import HTTPTypes
import Hummingbird
import Logging

/// Whether a request may go on to an upstream (contract §10), by the access rules' route policy for
/// its path, and with what identity.
///
/// The policy is read from every reading of the path (``RequestPath/readings(_:)``), as `/auth`
/// reads a forwarded one, and the request must pass them all: the app gets the path as sent, and
/// no way an app might read it escapes the rules. A public path passes without a session and
/// without identity. Otherwise: no session is 303 to `/login?next=` for a browser and 401 for
/// anything else, a user the rules refuse is 403.
struct UpstreamGate: Sendable {
    /// What becomes of a request.
    enum Admission {
        /// On to the app, telling it of this user (none on a public path).
        case forward(PassedIdentity?)
        /// Answered here.
        case answer(Response)
    }

    let upstream: GatehouseConfiguration.Upstream
    let authenticator: SessionAuthenticator
    let access: Reloadable<AccessControl>

    func admit(_ request: Request, logger: Logger) async throws -> Admission {
        guard let target = request.head.path, let readings = RequestPath.readings(target) else { throw GatewayError.notAPath }
        let control = access.value
        let requirements = control.policy.requirements(forReadings: readings)
        if requirements.allSatisfy({ $0 == .public }) { return .forward(nil) }
        switch try await authenticator.authenticate(request, logger: logger) {
        case .signedOut(let staleCookie):
            var response = Responses.signInRequired(request, next: target)
            if staleCookie { response.setCookie(authenticator.cookies.expiredSession()) }
            return .answer(response)
        case .refused(let refusal):
            var response = ErrorResponse.make(.notAllowed(refusal), for: request)
            response.setCookie(authenticator.cookies.expiredSession())
            return .answer(response)
        case .signedIn(let session):
            let identity = control.identity(of: session.profile)
            guard requirements.allSatisfy({ $0.admits(identity) }),
                let passed = PassedIdentity(
                    identity,
                    session: session,
                    passAccessToken: upstream.passAccessToken,
                    requireVerifiedEmail: control.policy.sessionRule.requireVerifiedEmail
                )
            else {
                let account = AccessRefusal.accountName(of: identity, name: session.profile.name)
                return .answer(ErrorResponse.make(.notAllowedHere(account: account), for: request))
            }
            return .forward(passed)
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
