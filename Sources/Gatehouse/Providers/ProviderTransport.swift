import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// How every provider talks HTTP to its identity provider, so every provider fails closed the same way.
///
/// A call never follows redirects, reads at most ``Configuration/bodyLimit`` bytes, and must
/// finish, body included and any retry too, within ``Configuration/timeout``. Only a call that got
/// no answer at all (a refused or dropped connection) is retried, once (see ``TransportRetry``),
/// and only when it may be repeated.
public struct ProviderTransport: Sendable {
    /// How long a call may take and how much it may read.
    public struct Configuration: Sendable {
        /// The deadline for one call: connection, headers and body together, any retry included.
        public var timeout: Duration
        /// The largest answer body read; a larger one is a bad response.
        public var bodyLimit: Int
        /// When a call that got no answer at all is tried again, within the same deadline.
        public var retry: TransportRetry

        public init(timeout: Duration, bodyLimit: Int = 256 * 1024, retry: TransportRetry = .init()) {
            self.timeout = timeout
            self.bodyLimit = bodyLimit
            self.retry = retry
        }
    }

    /// A provider's answer, read whole.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: ByteBuffer
    }

    public let configuration: Configuration
    private let client: HTTPClient

    /// - Parameter client: a client created with redirects disallowed (see ``makeHTTPClient(timeout:)``).
    public init(client: HTTPClient, configuration: Configuration) {
        self.client = client
        self.configuration = configuration
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

    /// `GET url`.
    public func get(_ url: String, headers: HTTPHeaders = [:]) async throws(ProviderError) -> Answer {
        try await call(url: url, method: .GET, headers: headers, body: nil, repeatable: true)
    }

    /// `POST url` with `form` as `application/x-www-form-urlencoded`.
    ///
    /// - Parameter repeatable: whether the call may be sent twice. A refresh is not: a provider
    ///   that rotates refresh tokens would take a second use for a replay.
    public func postForm(_ url: String, form: [(String, String)], headers: HTTPHeaders = [:], repeatable: Bool) async throws(ProviderError) -> Answer {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/x-www-form-urlencoded")
        return try await call(url: url, method: .POST, headers: headers, body: PercentEncoding.formEncoded(form), repeatable: repeatable)
    }

    private func call(url: String, method: HTTPMethod, headers: HTTPHeaders, body: String?, repeatable: Bool) async throws(ProviderError) -> Answer {
        // One deadline for the whole call, body and any retry included: a retry whose pause would
        // end past it is not started.
        let deadline = NIODeadline.now() + TimeAmount(configuration.timeout)
        let longestPause = TimeAmount(configuration.retry.pause.upperBound)
        let isWorthRetrying = { (error: any Error) in
            repeatable && Self.isTransportFailure(error) && NIODeadline.now() + longestPause < deadline
        }
        do {
            return try await configuration.retry.run(isTransportFailure: isWorthRetrying) {
                try await attempt(url: url, method: method, headers: headers, body: body, deadline: deadline)
            }
        } catch {
            throw Self.providerError(for: error, bodyLimit: configuration.bodyLimit)
        }
    }

    /// One request, sent, answered and read in full on one event loop, so the calling task waits
    /// once instead of hopping back and forth for the head and each piece of the body.
    /// AsyncHTTPClient fails the call at `deadline` however far it got (unlike its async API, whose
    /// deadline ends with the head); cancelling the calling task cancels the request.
    private func attempt(url: String, method: HTTPMethod, headers: HTTPHeaders, body: String?, deadline: NIODeadline) async throws -> Answer {
        let request = try HTTPClient.Request(url: url, method: method, headers: headers, body: body.map { .string($0) })
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
        return Answer(status: Int(response.status.code), headers: response.headers, body: response.body ?? ByteBuffer())
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
