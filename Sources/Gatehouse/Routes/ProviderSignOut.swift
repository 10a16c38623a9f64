import Logging

/// Ends a user's session at the provider (revokes what can be revoked, and finds the page that
/// signs the browser out there), for logout and for users the access rules turn away.
struct ProviderSignOut: Sendable {
    let provider: any IdentityProvider
    let publicURL: String
    /// `redirects.afterLogout` (reloadable): where the provider's sign-out page sends the browser back to.
    let redirects: Reloadable<GatehouseConfiguration.Redirects>
    /// Where credentials the provider would not revoke are kept refused until they expire.
    let spentCredentials: SpentCredentials

    func end(_ credentials: Credentials, logger: Logger) async -> SessionEnd {
        let end = await provider.endSession(credentials, postLogoutURL: publicURL + redirects.value.afterLogout.path)
        if case .failed(let error) = end.revocation {
            ProviderFailureLog.record(error, during: "logout", logger: logger)
            // The token still works at the provider: it must at least open no session here again.
            do {
                try await spentCredentials.deny(credentials)
            } catch {
                logger.error("The login-state store failed to keep an unrevoked token refused", metadata: ["error.type": "\(type(of: error))"])
            }
        }
        return end
    }
}
