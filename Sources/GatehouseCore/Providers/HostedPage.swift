/// A provider's hosted login page, LoginRadius-style: `?action=login|register&return_url=URL`.
public struct HostedPage: Sendable, Equatable {
    /// The page's URL without the query Gatehouse adds.
    public let baseURL: String

    public init(baseURL: String) {
        self.baseURL = baseURL
    }

    /// The URL that sends a browser to `intent`'s page, to come back to `returnURL` (percent-encoded).
    public func url(for intent: LoginIntent, returnURL: String) -> String {
        PercentEncoding.appendingQuery(["action": intent.rawValue, "return_url": returnURL], to: baseURL)
    }
}
