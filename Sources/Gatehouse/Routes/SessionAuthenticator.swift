import Hummingbird
import Logging

/// Finds the signed-in session a request carries, revalidating its token with the provider when
/// the last confirmation is older than `revalidateAfterSeconds`.
///
/// Concurrent requests of one session share one provider call (``RevalidationFlights``). A token
/// the provider now rejects ends the session there and then; a provider that is down or
/// misbehaving fails the request (fail closed) but leaves the session for the next try.
struct SessionAuthenticator: Sendable {
    /// Who, if anyone, a request is signed in as.
    enum Outcome: Sendable {
        case signedIn(Session)
        /// No live session; `staleCookie` when the request carried a session cookie that should be cleared.
        case signedOut(staleCookie: Bool)
    }

    let sessions: SessionManager
    let provider: any IdentityProvider
    let cookies: SessionCookies
    let metrics: GatewayMetrics
    let flights = RevalidationFlights()

    /// - Parameter logger: the request's logger (it carries the request id).
    func authenticate(_ request: Request, logger: Logger, revalidate: Bool = true) async throws(GatewayError) -> Outcome {
        guard cookies.hasSessionCookie(request) else { return .signedOut(staleCookie: false) }
        guard let id = cookies.sessionID(in: request) else { return .signedOut(staleCookie: true) }
        let found: Session?
        do {
            found = try await sessions.session(for: id)
        } catch {
            logger.error("The session store failed a read", metadata: ["error.type": "\(type(of: error))"])
            throw .storeUnavailable
        }
        guard let session = found else { return .signedOut(staleCookie: true) }
        guard revalidate else { return .signedIn(session) }
        guard sessions.needsRevalidation(session) else {
            metrics.recordValidation(.fresh)
            return .signedIn(session)
        }
        // revalidateAfterSeconds 0 asks for a provider call on every request: nothing is shared.
        guard sessions.configuration.revalidateAfter > 0 else { return try await revalidated(session, logger: logger) }
        let metrics = self.metrics
        return try await flights.outcome(for: session, joined: { metrics.recordValidation(.shared) }) { () async throws(GatewayError) in
            try await revalidated(session, logger: logger)
        }
    }

    /// Ends `session` in the store and forgets its revalidations.
    func end(_ session: Session) async throws {
        await flights.forget(session.key)
        try await sessions.end(session.key)
    }

    private func revalidated(_ session: Session, logger: Logger) async throws(GatewayError) -> Outcome {
        metrics.recordValidation(.fetched)
        let profile: UserProfile
        do {
            profile = try await provider.refetchProfile(for: session.token, current: session.profile)
        } catch let error as ProviderError where error.kind == .tokenRejected {
            logger.info("The provider no longer accepts a session's token; the session is ended", metadata: ["reason": "\(error)"])
            try? await sessions.end(session.key)
            return .signedOut(staleCookie: true)
        } catch {
            let providerError = error as? ProviderError ?? .unreachable(reason: "\(type(of: error))")
            ProviderFailureLog.record(providerError, during: "revalidation", logger: logger)
            throw .provider(providerError)
        }
        do {
            return .signedIn(try await sessions.recordValidation(of: session, profile: profile))
        } catch {
            logger.error("The session store failed a write", metadata: ["error.type": "\(type(of: error))"])
            throw .storeUnavailable
        }
    }
}
