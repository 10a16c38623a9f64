import Foundation
import NIOFoundationCompat
import NIOHTTP1

/// The provider's discovery document, fetched when first needed and kept.
///
/// Concurrent requests share one fetch. A document is kept for ``refreshInterval`` and then fetched
/// again; if that fails the one in hand stays in use, so a provider's brief outage does not stop
/// logins that need nothing new from it. Without any document, a failure is remembered for
/// ``retryInterval``, so a provider that is down is not asked again by every request.
actor OpenIDDiscovery {
    let url: String
    let issuer: String
    private let transport: ProviderTransport
    private let refreshInterval: Duration
    private let retryInterval: Duration
    private var current: (metadata: OpenIDProviderMetadata, fetchedAt: ContinuousClock.Instant)?
    private var failure: (error: ProviderError, at: ContinuousClock.Instant)?
    private var fetching: Task<Result<OpenIDProviderMetadata, ProviderError>, Never>?

    init(url: String, issuer: String, transport: ProviderTransport, refreshInterval: Duration = .seconds(3600), retryInterval: Duration = .seconds(5)) {
        self.url = url
        self.issuer = issuer
        self.transport = transport
        self.refreshInterval = refreshInterval
        self.retryInterval = retryInterval
    }

    /// The provider's metadata, fetched if there is none yet (or it is due again).
    func metadata() async throws(ProviderError) -> OpenIDProviderMetadata {
        let now = ContinuousClock.now
        if let current, now - current.fetchedAt < refreshInterval {
            return current.metadata
        }
        if current == nil, let failure, now - failure.at < retryInterval {
            throw failure.error
        }
        switch await fetch() {
        case .success(let metadata):
            return metadata
        case .failure(let error):
            // A document in hand beats none: keep using it until the provider answers again.
            if let current { return current.metadata }
            throw error
        }
    }

    private func fetch() async -> Result<OpenIDProviderMetadata, ProviderError> {
        if let fetching { return await fetching.value }
        let (url, issuer, transport) = (self.url, self.issuer, self.transport)
        let task = Task { () -> Result<OpenIDProviderMetadata, ProviderError> in
            do throws(ProviderError) {
                let answer = try await transport.get(url, headers: ["Accept": "application/json"])
                return .success(try OpenIDProviderMetadata.read(status: answer.status, body: Data(buffer: answer.body), expectedIssuer: issuer))
            } catch {
                return .failure(error)
            }
        }
        fetching = task
        let result = await task.value
        fetching = nil
        switch result {
        case .success(let metadata):
            current = (metadata, .now)
            failure = nil
        case .failure(let error):
            failure = (error, .now)
        }
        return result
    }
}
