import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The LoginRadius API over HTTP: the token in `Authorization: Bearer`, the API key as `apikey`
/// (as LoginRadius requires), through a ``ProviderTransport``.
public struct LoginRadiusHTTPAPI: LoginRadiusAPI {
    /// The API base URL, e.g. `https://api.loginradius.com`, without a trailing slash.
    public let apiURL: String
    /// The application's API key.
    public let apiKey: String
    private let transport: ProviderTransport

    public init(apiURL: String, apiKey: String, transport: ProviderTransport) {
        self.apiURL = apiURL
        self.apiKey = apiKey
        self.transport = transport
    }

    public func answer(_ endpoint: LoginRadiusEndpoint, token: AccessToken) async throws(ProviderError) -> LoginRadiusAPIAnswer {
        let url = PercentEncoding.appendingQuery(["apikey": apiKey], to: apiURL + endpoint.rawValue)
        let headers: HTTPHeaders = ["Authorization": "Bearer \(token.value)", "Accept": "application/json"]
        let answer = try await transport.get(url, headers: headers)
        return LoginRadiusAPIAnswer(status: answer.status, body: Data(buffer: answer.body))
    }
}
