import AsyncHTTPClient
import ServiceLifecycle

/// Owns an `HTTPClient` for the life of the application's service group and shuts it down
/// once graceful shutdown begins, after the server has stopped taking requests.
public struct HTTPClientService: Service {
    /// The client, shared by everything that calls out.
    public let client: HTTPClient

    public init(client: HTTPClient) {
        self.client = client
    }

    public func run() async throws {
        // Wait for shutdown (a cancellation ends the wait the same way), then close the pool.
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
