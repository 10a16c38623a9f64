/// A provider's hosted login page, LoginRadius-style: `?action=login|register&return_url=URL`.
public struct HostedPage: Sendable, Equatable {
    /// The page's URL without the query Gatehouse adds.
    public let baseURL: String

    public init(baseURL: String) {
        self.baseURL = baseURL
    }

    /// The URL that sends a browser to `action`, to come back to `returnURL` (percent-encoded).
    public func url(action: HostedPageAction, returnURL: String) -> String {
        PercentEncoding.appendingQuery(["action": action.rawValue, "return_url": returnURL], to: baseURL)
    }
}

/// Which page of the provider's hosted login a browser is sent to.
public enum HostedPageAction: String, Sendable {
    case login
    case register
}
