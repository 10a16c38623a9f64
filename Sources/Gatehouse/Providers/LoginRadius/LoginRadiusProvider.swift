import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The LoginRadius identity provider (and anything that speaks its API), over HTTP.
///
/// Every call sends the token in an `Authorization: Bearer` header and the API key as `apikey`,
/// never follows redirects, reads at most ``Configuration/bodyLimit`` bytes, and must finish,
/// body included and any retry too, within ``Configuration/timeout``. Only a call that got no
/// answer at all (a refused or dropped connection) is retried, once (see ``TransportRetry``).
public struct LoginRadiusProvider: IdentityProvider {
    /// Where the provider lives and how long it may take.
    public struct Configuration: Sendable {
        /// The hosted login page, e.g. `https://my-app.hub.loginradius.com/auth.aspx`.
        public var hostedPageURL: String
        /// The API base URL, e.g. `https://api.loginradius.com`, without a trailing slash.
        public var apiURL: String
        /// The application's API key; sent as a query parameter, as LoginRadius requires.
        public var apiKey: String
        /// The deadline for one call: connection, headers and body together.
        public var timeout: Duration
        /// The largest answer body read; a larger one is a bad response.
        public var bodyLimit: Int
        /// When a call that got no answer at all is tried again, within the same deadline.
        public var retry: TransportRetry

        public init(
            hostedPageURL: String,
            apiURL: String,
            apiKey: String,
            timeout: Duration,
            bodyLimit: Int = 256 * 1024,
            retry: TransportRetry = .init()
        ) {
            self.hostedPageURL = hostedPageURL
            self.apiURL = apiURL
            self.apiKey = apiKey
            self.timeout = timeout
            self.bodyLimit = bodyLimit
            self.retry = retry
        }
    }

    private let configuration: Configuration
    private let client: HTTPClient

    /// - Parameter client: a client created with redirects disallowed (see ``makeHTTPClient(timeout:)``).
    public init(configuration: Configuration, client: HTTPClient) {
        self.configuration = configuration
        self.client = client
    }

    /// A client configured for provider calls: no redirects, connect timeout from the deadline,
    /// no silent reconnection attempts.
    public static func makeHTTPClient(timeout: Duration) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .init(timeout), read: .init(timeout))
        configuration.decompression = .disabled
        // A refused connection should fail the call now, not be retried until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        // Provider calls are short and many run at once under load: AsyncHTTPClient's default of
        // 8 connections per host would queue them behind each other.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        // Gatehouse bootstraps no tracer: spans for the no-op one would only cost time per call.
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func hostedPageURL(action: HostedPageAction, returnURL: String) -> String {
        HostedPage(baseURL: configuration.hostedPageURL).url(action: action, returnURL: returnURL)
    }

    public func fetchProfile(for token: AccessToken) async throws -> UserProfile {
        try await profile(for: token, current: nil)
    }

    /// An unchanged profile answer is recognised by its bytes and not decoded again.
    public func refetchProfile(for token: AccessToken, current: UserProfile) async throws -> UserProfile {
        try await profile(for: token, current: current)
    }

    private func profile(for token: AccessToken, current: UserProfile?) async throws -> UserProfile {
        do {
            let answer = try await get("/identity/v2/auth/account", token: token)
            return try LoginRadiusResponse.profile(status: answer.status, body: answer.body.readableBytesView, current: current)
        } catch {
            throw error.redacting(token.value)
        }
    }

    public func invalidate(_ token: AccessToken) async throws {
        do {
            let answer = try await get("/identity/v2/auth/access_token/invalidate", token: token)
            try LoginRadiusResponse.invalidation(status: answer.status, body: answer.body.readableBytesView)
        } catch {
            throw error.redacting(token.value)
        }
    }

    // MARK: - Transport

    private struct Answer: Sendable {
        var status: Int
        var body: ByteBuffer
    }

    private func get(_ path: String, token: AccessToken) async throws(ProviderError) -> Answer {
        let url = PercentEncoding.appendingQuery(["apikey": configuration.apiKey], to: configuration.apiURL + path)
        let headers: HTTPHeaders = ["Authorization": "Bearer \(token.value)", "Accept": "application/json"]
        // One deadline for the whole call, body and any retry included: a retry whose pause would
        // end past it is not started.
        let deadline = NIODeadline.now() + TimeAmount(configuration.timeout)
        let longestPause = TimeAmount(configuration.retry.pause.upperBound)
        let isWorthRetrying = { (error: any Error) in
            Self.isTransportFailure(error) && NIODeadline.now() + longestPause < deadline
        }
        do {
            return try await configuration.retry.run(isTransportFailure: isWorthRetrying) {
                try await attempt(url: url, headers: headers, deadline: deadline)
            }
        } catch {
            throw Self.providerError(for: error, bodyLimit: configuration.bodyLimit)
        }
    }

    /// One request, sent, answered and read in full on one event loop, so the calling task waits
    /// once instead of hopping back and forth for the head and each piece of the body.
    /// AsyncHTTPClient fails the call at `deadline` however far it got (unlike its async API, whose
    /// deadline ends with the head); cancelling the calling task cancels the request.
    private func attempt(url: String, headers: HTTPHeaders, deadline: NIODeadline) async throws -> Answer {
        let request = try HTTPClient.Request(url: url, method: .GET, headers: headers)
        let task = client.execute(
            request: request,
            delegate: ResponseAccumulator(request: request, maxBodySize: configuration.bodyLimit),
            deadline: deadline
        )
        let response = try await withTaskCancellationHandler {
            try await task.futureResult.get()
        } onCancel: {
            task.cancel()
        }
        return Answer(status: Int(response.status.code), body: response.body ?? ByteBuffer())
    }

    /// Whether `error` means the call got no answer: the one kind of failure worth a retry.
    private static func isTransportFailure(_ error: any Error) -> Bool {
        !Task.isCancelled && providerError(for: error, bodyLimit: 0).kind == .unreachable
    }

    private static func providerError(for error: any Error, bodyLimit: Int) -> ProviderError {
        switch error {
        case is DeadlineExceeded:
            return .timedOut()
        case is ResponseAccumulator.ResponseTooBigError:
            return .badResponse(reason: "the provider's answer is larger than \(bodyLimit) bytes")
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout:
                return .timedOut()
            default:
                return .unreachable(reason: "the provider could not be reached (\(error))")
            }
        default:
            return .unreachable(reason: "the provider could not be reached (\(String(describing: type(of: error))): \(error))")
        }
    }
}
