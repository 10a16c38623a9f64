/// The mock provider as an in-process ``IdentityProvider``: no network, same answers.
///
/// Answers go through ``LoginRadiusResponse``, the decoder the real provider uses, so the mock
/// and LoginRadius cannot drift apart in what they mean.
public struct MockIdentityProvider: IdentityProvider {
    public let directory: MockDirectory
    private let hostedPage: HostedPage
    private let apiKey: String

    /// - Parameters:
    ///   - hostedPageURL: where the mock's hosted page is served (see ``MockProviderController``).
    ///   - apiKey: the key presented to the directory, as a real gateway would.
    public init(directory: MockDirectory, hostedPageURL: String, apiKey: String = "mock-api-key") {
        self.directory = directory
        self.hostedPage = HostedPage(baseURL: hostedPageURL)
        self.apiKey = apiKey
    }

    public func hostedPageURL(action: HostedPageAction, returnURL: String) -> String {
        hostedPage.url(action: action, returnURL: returnURL)
    }

    public func fetchProfile(for token: AccessToken) async throws -> UserProfile {
        let answer = await directory.profile(apiKey: apiKey, token: token.value)
        return try LoginRadiusResponse.profile(status: answer.status, body: answer.body)
    }

    public func refetchProfile(for token: AccessToken, current: UserProfile) async throws -> UserProfile {
        let answer = await directory.profile(apiKey: apiKey, token: token.value)
        return try LoginRadiusResponse.profile(status: answer.status, body: answer.body, current: current)
    }

    public func invalidate(_ token: AccessToken) async throws {
        let answer = await directory.invalidate(apiKey: apiKey, token: token.value)
        try LoginRadiusResponse.invalidation(status: answer.status, body: answer.body)
    }
}
