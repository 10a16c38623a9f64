import Hummingbird
import Logging

/// `/login`, `/register` and the provider's way back, `/login/callback/{state}`.
struct LoginController<Context: RequestContext>: Sendable {
    let provider: any IdentityProvider
    let sessions: SessionManager
    let loginStates: any PendingLoginStore
    let cookies: SessionCookies
    let publicURL: String
    let afterLogin: RedirectTarget
    let metrics: GatewayMetrics

    func addRoutes(to router: Router<Context>) {
        router.get("login") { request, context in await begin(.login, request, logger: context.logger) }
        router.get("register") { request, context in await begin(.register, request, logger: context.logger) }
        router.get("login/callback/:state") { request, context in
            await callback(request, state: context.parameters.get("state") ?? "", logger: context.logger)
        }
    }

    /// Sends the browser to the hosted page with a fresh single-use state, also set as a cookie.
    func begin(_ action: HostedPageAction, _ request: Request, logger: Logger) async -> Response {
        let next = RedirectTarget.fromQuery(request.uri.query)
        let login: PendingLogin
        do {
            login = try await loginStates.begin(next: next?.path)
        } catch {
            logger.error("The login-state store failed while starting a login", metadata: ["error.type": "\(type(of: error))"])
            return ErrorResponse.make(.storeUnavailable, for: request)
        }
        let returnURL = "\(publicURL)\(SessionCookies.callbackPath)/\(login.state)"
        var response = Responses.seeOther(provider.hostedPageURL(action: action, returnURL: returnURL))
        response.setCookie(cookies.state(login.state))
        return response
    }

    /// Checks the state, proves the token with a profile fetch, and starts a new session.
    func callback(_ request: Request, state: String, logger: Logger) async -> Response {
        var response: Response
        switch await completeLogin(request, state: state, logger: logger) {
        case .success(let (id, target)):
            metrics.recordLoginSucceeded()
            response = Responses.seeOther(target.locationHeaderValue)
            response.setCookie(cookies.session(id))
        case .failure(let error):
            metrics.recordLoginFailed(reason: error.code)
            response = ErrorResponse.make(error, for: request)
        }
        // The state is spent either way.
        response.setCookie(cookies.expiredState())
        return response
    }

    private func completeLogin(_ request: Request, state: String, logger: Logger) async -> Result<(SessionID, RedirectTarget), GatewayError> {
        guard PendingLogin.isWellFormed(state) else {
            logger.info("Login callback refused: the state is not one Gatehouse issues")
            return .failure(.stateMismatch)
        }
        guard let cookieState = cookies.state(in: request), PendingLogin.statesMatch(state, cookieState) else {
            logger.info("Login callback refused: the state does not match the browser's state cookie")
            return .failure(.stateMismatch)
        }
        let completed: PendingLogin?
        do {
            completed = try await loginStates.complete(state: state)
        } catch {
            logger.error("The login-state store failed while completing a login", metadata: ["error.type": "\(type(of: error))"])
            return .failure(.storeUnavailable)
        }
        guard let pending = completed else {
            logger.info("Login callback refused: the state was already used or has expired")
            return .failure(.stateMismatch)
        }
        let tokens = request.uri.queryParameters.getAll("token")
        guard let raw = tokens.first, !raw.isEmpty else { return .failure(.missingToken) }
        guard tokens.count == 1, let token = AccessToken(validating: raw) else { return .failure(.malformedToken) }

        let profile: UserProfile
        do {
            profile = try await provider.fetchProfile(for: token)
        } catch {
            let providerError = error as? ProviderError ?? .unreachable(reason: "\(type(of: error))")
            ProviderFailureLog.record(providerError, during: "login", logger: logger)
            return .failure(.provider(providerError))
        }
        do {
            // Never adopt a session the browser brought: end it, then issue a new id.
            if let previous = cookies.sessionID(in: request) {
                try await sessions.end(previous.storageKey)
            }
            let (id, _) = try await sessions.start(token: token, profile: profile)
            logger.info("Signed in", metadata: ["user.id": "\(profile.id)"])
            return .success((id, RedirectTarget.resolve(pending.next, fallback: afterLogin)))
        } catch {
            logger.error("The session store failed while starting a session", metadata: ["error.type": "\(type(of: error))"])
            return .failure(.storeUnavailable)
        }
    }
}
