import Hummingbird
import HummingbirdAuth
import Logging

/// `GET` and `POST /logout`: ends the local session, then the session at the provider.
///
/// Added to a group whose ``SessionMiddleware`` does not revalidate: logging out needs no fresh
/// confirmation, only a live session.
struct LogoutController<Context: AuthRequestContext<Session>>: Sendable {
    let authenticator: SessionAuthenticator
    let provider: any IdentityProvider
    /// Where a browser goes after logout (`redirects.afterLogout`, reloadable).
    let redirects: Reloadable<GatehouseConfiguration.Redirects>
    let publicURL: String

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("logout") { request, context in await logout(request, context: context) }
        group.post("logout") { request, context in await logout(request, context: context) }
    }

    func logout(_ request: Request, context: Context) async -> Response {
        let logger = context.logger
        guard let session = context.identity else {
            return Responses.signInRequired(request, next: nil)
        }
        // End the local session first: it must end even if the provider call fails or hangs.
        var localError: GatewayError?
        do {
            try await authenticator.end(session)
        } catch {
            logger.error("The session store failed to delete a session", metadata: ["error.type": "\(type(of: error))"])
            localError = .storeUnavailable
        }
        let afterLogout = redirects.value.afterLogout
        // `{publicURL}{afterLogout}`: where the provider's logout page sends the browser back to.
        let end = await provider.endSession(session.credentials, postLogoutURL: publicURL + afterLogout.path)
        if case .failed(let error) = end.revocation {
            ProviderFailureLog.record(error, during: "logout", logger: logger)
        }
        logger.info("Signed out", metadata: ["user.id": "\(session.profile.id)", "provider.revoked": "\(end.revoked)"])

        var response: Response
        if let localError {
            response = ErrorResponse.make(localError, for: request)
        } else if ClientPreference.wantsHTML(request.headers) {
            response = Responses.seeOther(end.browserURL ?? afterLogout.locationHeaderValue)
        } else {
            response = JSONResponse.make(headers: [.cacheControl: "no-store"], ["loggedOut": .bool(true), "providerRevoked": .bool(end.revoked)])
        }
        response.setCookie(authenticator.cookies.expiredSession())
        return response
    }
}
