import Hummingbird
import Logging

/// Finds the signed-in session a request carries, revalidating it with the provider when the last
/// confirmation is older than `revalidateAfterSeconds`.
///
/// Concurrent requests of one session share one provider call (``RevalidationFlights``), which
/// also means one refresh, so a rotating refresh token is used once. A provider that now refuses
/// the session ends it there and then; a provider that is down or misbehaving fails the request
/// (fail closed) but leaves the session for the next try.
///
/// A revalidating read also checks the session's user against the access rules in force (they
/// may have changed, and so may the user's groups); a user who no longer passes is refused: the
/// session ends here and at the provider.
struct SessionAuthenticator: Sendable {
    /// Who, if anyone, a request is signed in as.
    enum Outcome: Sendable {
        case signedIn(Session)
        /// No live session; `staleCookie` when the request carried a session cookie that should be cleared.
        case signedOut(staleCookie: Bool)
        /// The session's user no longer passes the access rules; the session has been ended.
        case refused(AccessRefusal)
    }

    let sessions: SessionManager
    let provider: any IdentityProvider
    let cookies: SessionCookies
    let metrics: GatewayMetrics
    let access: Reloadable<AccessControl>
    let signOut: ProviderSignOut
    let flights = RevalidationFlights()

    /// - Parameter logger: the request's logger (it carries the request id).
    func authenticate(_ request: Request, logger: Logger, revalidate: Bool = true) async throws(GatewayError) -> Outcome {
        let id: SessionID
        switch cookies.sessionCookie(in: request) {
        case .absent: return .signedOut(staleCookie: false)
        case .one(.none), .several: return .signedOut(staleCookie: true)
        case .one(let carried?): id = carried
        }
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
            return await admitted(.signedIn(session), logger: logger)
        }
        // revalidateAfterSeconds 0 asks for a provider call on every request: nothing is shared.
        guard sessions.configuration.revalidateAfter > 0 else {
            return await admitted(try await revalidated(session, logger: logger), logger: logger)
        }
        let metrics = self.metrics
        return try await flights.outcome(for: session, joined: { metrics.recordValidation(.shared) }) { () async throws(GatewayError) in
            await admitted(try await revalidated(session, logger: logger), logger: logger)
        }
    }

    /// `outcome`, unless its session's user does not pass the session rules: then the session
    /// ends, here and at the provider.
    private func admitted(_ outcome: Outcome, logger: Logger) async -> Outcome {
        let control = access.value
        guard case .signedIn(let session) = outcome, let denial = control.sessionDenial(for: session.profile) else { return outcome }
        logger.info(
            "A session's user no longer passes the access rules; the session is ended",
            metadata: ["user.id": "\(session.profile.id)", "reason": "\(denial.rawValue)"]
        )
        let account = AccessRefusal.accountName(of: control.identity(of: session.profile), name: session.profile.name)
        // Concurrent requests of the session may all find it refused: one ends it at the provider.
        // (A revalidation's flight keeps its refused outcome for those that join it.)
        guard await flights.claimRefusal(of: session.key) else {
            return .refused(AccessRefusal(account: account, denial: denial))
        }
        try? await sessions.end(session.key)
        let end = await signOut.end(session.credentials, logger: logger)
        return .refused(AccessRefusal(account: account, denial: denial, signOutURL: end.browserURL))
    }

    /// Ends `session` in the store and forgets its revalidations.
    func end(_ session: Session) async throws {
        await flights.forget(session.key)
        try await sessions.end(session.key)
    }

    private func revalidated(_ session: Session, logger: Logger) async throws(GatewayError) -> Outcome {
        metrics.recordValidation(.fetched)
        let revalidation: Revalidation
        do {
            revalidation = try await provider.revalidate(session.credentials, current: session.profile)
        } catch  where error.kind == .tokenRejected {
            return await refused(session, reason: error, logger: logger)
        } catch {
            ProviderFailureLog.record(error, during: "revalidation", logger: logger)
            throw .provider(error)
        }
        guard revalidation.profile.fitsInASession else {
            // Kept as it was: the session stands on its last profile until the provider answers within bounds.
            logger.warning("A revalidation's profile is too large to keep", metadata: ["profile.bytes": "\(revalidation.profile.json.count)"])
            throw .profileTooLarge
        }
        guard revalidation.profile.id == session.profile.id else {
            // The provider now says the credentials are someone else's: trust neither answer.
            logger.warning("A revalidation answered for a different user; the session is ended")
            try? await sessions.end(session.key)
            return .signedOut(staleCookie: true)
        }
        do {
            return .signedIn(try await sessions.recordValidation(of: session, revalidation))
        } catch {
            logger.error("The session store failed a write", metadata: ["error.type": "\(type(of: error))"])
            throw .storeUnavailable
        }
    }

    /// The provider refused `session`'s credentials: the session ends, unless another gateway
    /// instance renewed them meanwhile (a rotated refresh token makes the old one refused), in
    /// which case the renewed session stands.
    private func refused(_ session: Session, reason: ProviderError, logger: Logger) async -> Outcome {
        if let stored = try? await sessions.store.storedSession(for: session.key), stored.credentials != session.credentials,
            stored.validatedAt > session.validatedAt
        {
            logger.debug("The session's credentials were renewed elsewhere; using the renewed ones")
            return .signedIn(stored)
        }
        logger.info("The provider no longer accepts a session's credentials; the session is ended", metadata: ["reason": "\(reason)"])
        try? await sessions.end(session.key)
        return .signedOut(staleCookie: true)
    }
}
