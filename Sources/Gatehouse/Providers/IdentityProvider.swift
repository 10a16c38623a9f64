/// An identity provider, seen through the four steps every provider has: a login begins, a login
/// completes, a session is confirmed again, and it ends.
///
/// This is Gatehouse's pluggable seam. The gateway owns what is the same for every provider (the
/// single-use state, the sessions, the cookies); a provider owns how its protocol carries the user
/// there and back: LoginRadius's hosted page hands back a token, OpenID Connect a code to exchange.
public protocol IdentityProvider: Sendable {
    /// Where to send the browser to sign in, and what must be remembered until it comes back.
    func beginLogin(_ start: LoginStart) async throws(ProviderError) -> LoginRedirect

    /// Proves what the provider's callback carries and says who signed in.
    ///
    /// The gateway has already checked the callback's state; the provider checks the rest.
    func completeLogin(_ completion: LoginCompletion) async throws(ProviderError) -> SignIn

    /// Confirms a session's credentials with the provider again; `current` is the profile the
    /// session holds. A refusal (``ProviderError/Kind/tokenRejected``) ends the session; any other
    /// failure fails the request and keeps it.
    func revalidate(_ credentials: Credentials, current: UserProfile) async throws(ProviderError) -> Revalidation

    /// Ends the session at the provider: revokes what can be revoked, and says where a browser
    /// should go to sign out there as well. Never throws: the local session ends regardless.
    ///
    /// - Parameter postLogoutURL: the absolute URL the provider should send the browser back to.
    func endSession(_ credentials: Credentials, postLogoutURL: String) async -> SessionEnd
}
