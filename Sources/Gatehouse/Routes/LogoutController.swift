import Hummingbird
import Logging

/// `GET` and `POST /logout`: ends the local session, and invalidates the token at the provider.
struct LogoutController<Context: RequestContext>: Sendable {
    let authenticator: SessionAuthenticator
    let afterLogout: RedirectTarget

    func addRoutes(to router: Router<Context>) {
        router.get("logout") { request, context in try await logout(request, logger: context.logger) }
        router.post("logout") { request, context in try await logout(request, logger: context.logger) }
    }

    func logout(_ request: Request, logger: Logger) async throws -> Response {
        let cookies = authenticator.cookies
        // Logging out needs no fresh profile, only a live session.
        guard case .signedIn(let session) = try await authenticator.authenticate(request, logger: logger, revalidate: false) else {
            return Responses.signInRequired(request, next: nil, clearing: cookies.hasSessionCookie(request) ? cookies.expiredSession() : nil)
        }
        // End the local session first: it must end even if the provider call fails or hangs.
        var localError: GatewayError?
        do {
            try await authenticator.end(session)
        } catch {
            logger.error("The session store failed to delete a session", metadata: ["error.type": "\(type(of: error))"])
            localError = .storeUnavailable
        }
        let providerRevoked: Bool
        do {
            try await authenticator.provider.invalidate(session.token)
            providerRevoked = true
        } catch {
            let providerError = error as? ProviderError ?? .unreachable(reason: "\(type(of: error))")
            ProviderFailureLog.record(providerError, during: "logout", logger: logger)
            providerRevoked = false
        }
        logger.info("Signed out", metadata: ["user.id": "\(session.profile.id)", "provider.revoked": "\(providerRevoked)"])

        var response: Response
        if let localError {
            response = ErrorResponse.make(localError, for: request)
        } else if ClientPreference.wantsHTML(request.headers) {
            response = Responses.seeOther(afterLogout.locationHeaderValue)
        } else {
            response = JSONResponse.make(headers: [.cacheControl: "no-store"], ["loggedOut": .bool(true), "providerRevoked": .bool(providerRevoked)])
        }
        response.setCookie(cookies.expiredSession())
        return response
    }
}
