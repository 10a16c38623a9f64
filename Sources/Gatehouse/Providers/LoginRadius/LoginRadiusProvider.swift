import Foundation

/// The LoginRadius identity provider (and anything that speaks its API).
///
/// The browser goes to the hosted page with `return_url={callbackURL}/{state}`; the page sends it
/// back with `?token=`. The token is proved by a profile fetch, confirmed again the same way, and
/// invalidated at logout. The API is reached through a ``LoginRadiusAPI``: over HTTP in
/// production, in process for the mock.
public struct LoginRadiusProvider: IdentityProvider {
    /// Where the hosted page is.
    public struct Configuration: Sendable {
        /// The hosted login page, e.g. `https://my-app.hub.loginradius.com/auth.aspx`.
        public var hostedPageURL: String

        public init(hostedPageURL: String) {
            self.hostedPageURL = hostedPageURL
        }
    }

    private let hostedPage: HostedPage
    private let api: any LoginRadiusAPI

    public init(configuration: Configuration, api: any LoginRadiusAPI) {
        self.hostedPage = HostedPage(baseURL: configuration.hostedPageURL)
        self.api = api
    }

    public func beginLogin(_ start: LoginStart) async throws(ProviderError) -> LoginRedirect {
        LoginRedirect(url: hostedPage.url(for: start.intent, returnURL: "\(start.callbackURL)/\(start.state)"))
    }

    public func completeLogin(_ completion: LoginCompletion) async throws(ProviderError) -> SignIn {
        let tokens = completion.parameters.values("token")
        guard let raw = tokens.first, !raw.isEmpty else { throw .missingCredential("token") }
        guard tokens.count == 1, let token = AccessToken(validating: raw) else { throw .malformedCredential("token") }
        let profile = try await profile(for: token, current: nil)
        return SignIn(credentials: Credentials(accessToken: token), profile: profile)
    }

    /// An unchanged profile answer is recognised by its bytes and not decoded again.
    public func revalidate(_ credentials: Credentials, current: UserProfile) async throws(ProviderError) -> Revalidation {
        Revalidation(profile: try await profile(for: credentials.accessToken, current: current))
    }

    public func endSession(_ credentials: Credentials, postLogoutURL: String) async -> SessionEnd {
        let token = credentials.accessToken
        do {
            let answer = try await api.answer(.invalidate, token: token)
            try LoginRadiusResponse.invalidation(status: answer.status, body: answer.body)
            return SessionEnd(revocation: .revoked)
        } catch {
            return SessionEnd(revocation: .failed(error.redacting(token.value)))
        }
    }

    private func profile(for token: AccessToken, current: UserProfile?) async throws(ProviderError) -> UserProfile {
        do {
            let answer = try await api.answer(.profile, token: token)
            return try LoginRadiusResponse.profile(status: answer.status, body: answer.body, current: current)
        } catch {
            throw error.redacting(token.value)
        }
    }
}

/// The LoginRadius API calls Gatehouse makes, however they reach the service.
public protocol LoginRadiusAPI: Sendable {
    /// The status and body the endpoint answers for `token`; throws only when no answer came.
    func answer(_ endpoint: LoginRadiusEndpoint, token: AccessToken) async throws(ProviderError) -> LoginRadiusAPIAnswer
}

/// The API paths Gatehouse calls (contract §5).
public enum LoginRadiusEndpoint: String, Sendable {
    /// `GET /identity/v2/auth/account`: the profile, which proves the token.
    case profile = "/identity/v2/auth/account"
    /// `GET /identity/v2/auth/access_token/invalidate`.
    case invalidate = "/identity/v2/auth/access_token/invalidate"
    /// `GET /identity/v2/auth/access_token/validate`.
    case validate = "/identity/v2/auth/access_token/validate"
}

/// One answer of the LoginRadius API, before it is read.
public struct LoginRadiusAPIAnswer: Sendable {
    public var status: Int
    public var body: Data

    public init(status: Int, body: Data) {
        self.status = status
        self.body = body
    }
}
