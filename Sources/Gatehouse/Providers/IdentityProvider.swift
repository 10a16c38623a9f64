/// An identity provider with a hosted login page that hands the browser back an access token.
///
/// This is Gatehouse's pluggable seam: the gateway builds the hosted-page URL, proves a token by
/// fetching the profile behind it, and revokes the token at logout, and knows nothing else about
/// the provider. Errors thrown are ``ProviderError``s.
public protocol IdentityProvider: Sendable {
    /// The hosted page URL a browser is sent to, carrying the URL the provider must return to.
    func hostedPageURL(action: HostedPageAction, returnURL: String) -> String

    /// Fetches the profile of the user the token belongs to; this is what proves the token.
    func fetchProfile(for token: AccessToken) async throws -> UserProfile

    /// Fetches the profile again for a token already proven once (a revalidation). `current` is
    /// the profile the session holds: a provider may return it as it is when the answer shows that
    /// nothing changed, which spares reading the answer again. Fails as ``fetchProfile(for:)`` does.
    func refetchProfile(for token: AccessToken, current: UserProfile) async throws -> UserProfile

    /// Invalidates the token at the provider, so it cannot be used again anywhere.
    func invalidate(_ token: AccessToken) async throws
}

extension IdentityProvider {
    /// Reads every answer afresh.
    public func refetchProfile(for token: AccessToken, current: UserProfile) async throws -> UserProfile {
        try await fetchProfile(for: token)
    }
}
