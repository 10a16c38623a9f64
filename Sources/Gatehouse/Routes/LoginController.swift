import Foundation
import Hummingbird
import Logging

/// `/login`, `/register` and the provider's way back, `/login/callback` (the state in the query,
/// as OpenID Connect sends it) or `/login/callback/{state}` (in the path, as LoginRadius's
/// `return_url` carries it).
///
/// What is the same for every provider happens here: the single-use state, bound to the browser
/// by a sealed cookie per attempt, the access rules' say on who gets a session, and the new
/// session. The provider does the rest.
struct LoginController<Context: RequestContext>: Sendable {
    let provider: any IdentityProvider
    let sessions: SessionManager
    let attempts: LoginAttempts
    let cookies: SessionCookies
    let publicURL: String
    /// Where a login without `next` lands (`redirects.afterLogin`, reloadable).
    let redirects: Reloadable<GatehouseConfiguration.Redirects>
    let metrics: GatewayMetrics
    /// The session rules a user must pass to get a session at all (reloadable).
    let access: Reloadable<AccessControl>
    /// Ends what the provider issued to a user the rules turn away.
    let signOut: ProviderSignOut
    /// What logins produced already: one token opens one session.
    let spentCredentials: SpentCredentials
    /// The provider calls login callbacks may make at once; past it a callback fails fast.
    let budget: ProviderCallBudget

    /// - Parameters:
    ///   - starts: where `/login` and `/register` go.
    ///   - callbacks: where the provider's ways back go (their rate is counted apart, so a flood of
    ///     `/login` cannot hold back the callback of a login begun before it).
    func addRoutes(starts: RouterGroup<Context>, callbacks: RouterGroup<Context>) {
        starts.get("login") { request, context in await begin(.login, request, logger: context.logger) }
        starts.get("register") { request, context in await begin(.register, request, logger: context.logger) }
        callbacks.get("login/callback") { request, context in
            await callback(request, state: request.uri.queryParameters.getAll("state"), logger: context.logger)
        }
        callbacks.get("login/callback/:state") { request, context in
            await callback(request, state: [context.parameters.get("state") ?? ""], logger: context.logger)
        }
    }

    var callbackURL: String { publicURL + SessionCookies.callbackPath }

    /// Sends the browser to the provider with a fresh single-use state, sealed into a cookie of
    /// this attempt's own, so logins in several tabs do not displace each other.
    func begin(_ intent: LoginIntent, _ request: Request, logger: Logger) async -> Response {
        let next = RedirectTarget.fromQuery(request.uri.query)
        let state = attempts.newState()
        // Outside the budget: a provider call here is at most a discovery document, fetched once and cached.
        let redirect: LoginRedirect
        do {
            redirect = try await provider.beginLogin(LoginStart(intent: intent, state: state, callbackURL: callbackURL))
        } catch {
            ProviderFailureLog.record(error, during: "login", logger: logger)
            return ErrorResponse.make(.provider(error), for: request)
        }
        let attempt = attempts.attempt(state: state, next: next?.path, secrets: redirect.secrets)
        let name = cookies.attemptName(for: state)
        let value = attempts.sealer.seal(attempt, cookieName: name)
        var response = Responses.seeOther(redirect.url)
        for stale in staleAttempts(in: request, making: name.utf8.count + value.utf8.count) {
            response.setCookie(cookies.expiredAttempt(named: stale))
        }
        response.setCookie(cookies.attempt(named: name, value: value))
        return response
    }

    /// The attempt cookies to expire so the new one fits: past ``SessionCookies/attemptLimit`` or
    /// ``SessionCookies/attemptBytesLimit``, the oldest go (unreadable ones first).
    private func staleAttempts(in request: Request, making newBytes: Int) -> [String] {
        var held = cookies.attempts(in: request).map { cookie in
            let issuedAt = attempts.sealer.open(cookie.value, cookieName: cookie.name)?.issuedAt ?? .distantPast
            return HeldAttempt(name: cookie.name, bytes: cookie.name.utf8.count + cookie.value.utf8.count, issuedAt: issuedAt)
        }
        held.sort { $0.issuedAt > $1.issuedAt }
        var stale: [String] = []
        while let oldest = held.last,
            oldest.issuedAt == .distantPast || held.count >= SessionCookies.attemptLimit
                || held.reduce(newBytes, { $0 + $1.bytes }) > SessionCookies.attemptBytesLimit
        {
            stale.append(oldest.name)
            held.removeLast()
        }
        return stale
    }

    /// Checks the state against this browser's attempt, spends it, lets the provider complete
    /// the login, and starts a new session.
    func callback(_ request: Request, state: [String], logger: Logger) async -> Response {
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
        // The attempt is spent either way.
        if state.count == 1, LoginAttempt.isWellFormed(state[0]) {
            response.setCookie(cookies.expiredAttempt(named: cookies.attemptName(for: state[0])))
        }
        return response
    }

    private func completeLogin(_ request: Request, state states: [String], logger: Logger) async -> Result<(SessionID, RedirectTarget), GatewayError> {
        guard states.count == 1, LoginAttempt.isWellFormed(states[0]) else {
            logger.info("Login callback refused: the state is not one Gatehouse issues")
            return .failure(.stateMismatch)
        }
        let state = states[0]
        let name = cookies.attemptName(for: state)
        guard let value = cookies.attemptValue(for: state, in: request), let attempt = attempts.sealer.open(value, cookieName: name),
            LoginAttempt.statesMatch(state, attempt.state)
        else {
            logger.info("Login callback refused: this browser did not start a login with this state")
            return .failure(.stateMismatch)
        }
        guard !attempts.isExpired(attempt) else {
            logger.info("Login callback refused: the login attempt has expired")
            return .failure(.stateMismatch)
        }
        do {
            guard try await attempts.spend(attempt) else {
                logger.info("Login callback refused: the state was already used")
                return .failure(.stateMismatch)
            }
        } catch {
            logger.error("The login-state store failed while completing a login", metadata: ["error.type": "\(type(of: error))"])
            return .failure(.storeUnavailable)
        }

        let completion = LoginCompletion(parameters: Self.parameters(of: request), secrets: attempt.secrets, callbackURL: callbackURL)
        let provider = self.provider
        guard
            let completed = await budget.run({ () async -> Result<SignIn, ProviderError> in
                do throws(ProviderError) { return .success(try await provider.completeLogin(completion)) } catch { return .failure(error) }
            })
        else {
            logger.notice("Login refused: logins' provider calls are at their budget")
            return .failure(.loginsBusy)
        }
        let signIn: SignIn
        switch completed {
        case .success(let completed):
            signIn = completed
        case .failure(let error):
            ProviderFailureLog.record(error, during: "login", logger: logger)
            return .failure(.provider(error))
        }
        guard signIn.profile.hasCarriableID else {
            // No session for a user the app behind could not be told about (an empty or non-ASCII id).
            logger.warning("Login refused: the provider's user id is empty or cannot be carried in a header")
            _ = await signOut.end(signIn.credentials, logger: logger)
            return .failure(.provider(.badResponse(reason: "the provider's user id is empty or cannot be carried in a header")))
        }
        guard signIn.profile.fitsInASession else {
            logger.warning("Login refused: the provider's profile is too large", metadata: ["profile.bytes": "\(signIn.profile.json.count)"])
            _ = await signOut.end(signIn.credentials, logger: logger)
            return .failure(.profileTooLarge)
        }
        let control = access.value
        if let denial = control.sessionDenial(for: signIn.profile) {
            // No session; what the provider issued is revoked, and the page offers its sign-out.
            logger.info("Login refused by the access rules", metadata: ["user.id": "\(signIn.profile.id)", "reason": "\(denial.rawValue)"])
            let end = await signOut.end(signIn.credentials, logger: logger)
            let account = AccessRefusal.accountName(of: control.identity(of: signIn.profile), name: signIn.profile.name)
            return .failure(.notAllowed(AccessRefusal(account: account, denial: denial, signOutURL: end.browserURL)))
        }
        do {
            // One token, one session: a callback replayed with a new state of the sender's own finds it spent.
            guard try await spentCredentials.spend(signIn.credentials) else {
                logger.warning("Login refused: what the provider returned has opened a session before")
                return .failure(.credentialUsed)
            }
        } catch {
            logger.error("The login-state store failed while completing a login", metadata: ["error.type": "\(type(of: error))"])
            return .failure(.storeUnavailable)
        }
        do {
            // Never adopt a session the browser brought: end it, then issue a new id.
            if let previous = cookies.sessionID(in: request) {
                try await sessions.end(previous.storageKey)
            }
            let (id, _) = try await sessions.start(signIn)
            logger.info("Signed in", metadata: ["user.id": "\(signIn.profile.id)"])
            return .success((id, RedirectTarget.resolve(attempt.next, fallback: redirects.value.afterLogin)))
        } catch {
            logger.error("The session store failed while starting a session", metadata: ["error.type": "\(type(of: error))"])
            return .failure(.storeUnavailable)
        }
    }

    /// The callback's query, each name and value percent-decoded once.
    static func parameters(of request: Request) -> CallbackParameters {
        CallbackParameters(request.uri.queryParameters.map { (String($0.key), String($0.value)) })
    }
}

/// A login-attempt cookie a browser sent, as ``LoginController`` weighs which to keep.
private struct HeldAttempt {
    let name: String
    let bytes: Int
    /// `distantPast` when the cookie does not open.
    let issuedAt: Date
}
