/// The mock provider's LoginRadius API in process: no network, the same answers as its HTTP API.
///
/// Answers are read by ``LoginRadiusProvider`` with ``LoginRadiusResponse``, the decoder the real
/// service's answers go through, so the mock and LoginRadius cannot drift apart in what they mean.
public struct MockDirectoryAPI: LoginRadiusAPI {
    public let directory: MockDirectory
    /// The key presented to the directory, as a real gateway would.
    public let apiKey: String

    public init(directory: MockDirectory, apiKey: String = "mock-api-key") {
        self.directory = directory
        self.apiKey = apiKey
    }

    public func answer(_ endpoint: LoginRadiusEndpoint, token: AccessToken) async throws(ProviderError) -> LoginRadiusAPIAnswer {
        let answer = await directory.answer(endpoint, apiKey: apiKey, token: token.value)
        return LoginRadiusAPIAnswer(status: answer.status, body: answer.body)
    }
}

extension LoginRadiusProvider {
    /// The in-process mock provider: LoginRadius's flow, answered by `directory`, with its hosted
    /// page at `hostedPageURL` (see ``MockProviderController``).
    public static func mock(directory: MockDirectory, hostedPageURL: String, apiKey: String = "mock-api-key") -> LoginRadiusProvider {
        LoginRadiusProvider(configuration: .init(hostedPageURL: hostedPageURL), api: MockDirectoryAPI(directory: directory, apiKey: apiKey))
    }
}
