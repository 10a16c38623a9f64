import Foundation
import HTTPTypes
import Prometheus
import Synchronization

/// What the gateway counts and times, named for Prometheus (the README lists them), each family
/// with its `# HELP` text.
///
/// Metrics go straight to a swift-prometheus registry of the gateway's own, not through
/// swift-metrics: its factory makes every family without help text, and a family's help cannot
/// be set afterwards. Each gateway in a process (and each test) counts on its own. Labels only ever
/// take values from small fixed sets (matched routes, status codes, error codes), so no request
/// can grow the number of series.
public struct GatewayMetrics: Sendable {
    /// How a gated request's provider validation was settled.
    enum Validation: String {
        /// The last confirmation is recent enough: no provider call.
        case fresh
        /// This request asked the provider.
        case fetched
        /// This request waited for another request's provider call to the same session.
        case shared
    }

    /// A step of the provider seam that calls the identity provider.
    enum ProviderOperation: String {
        /// Completing a login (LoginRadius: the profile fetch; OpenID Connect: the code exchange).
        case login
        /// Confirming a session again (a profile fetch, a refresh or userinfo).
        case revalidation
        /// Revoking at logout.
        case logout
    }

    /// Every family's help text, by name.
    static let help: [String: String] = [
        "gatehouse_http_requests_total": "Requests answered, by method, matched route and status.",
        "gatehouse_http_request_duration_seconds": "Time to answer a request, by method and matched route.",
        "gatehouse_logins_succeeded_total": "Login callbacks that started a session.",
        "gatehouse_logins_failed_total": "Login callbacks that did not, by the error code shown.",
        "gatehouse_provider_calls_total": "Calls to the identity provider, by step and outcome.",
        "gatehouse_provider_call_duration_seconds": "Time per identity-provider step, retries included.",
        "gatehouse_session_validations_total": "Gated requests by how their session was confirmed: fresh, fetched or shared.",
        "gatehouse_sessions_live": "Sessions within their idle and absolute timeouts, as the store counts them.",
        "gatehouse_session_cache_hits_total": "Session reads answered from this instance's cache.",
        "gatehouse_session_cache_misses_total": "Session reads that went to the store (not cached, or the cache not trusted then).",
        "gatehouse_session_cache_evictions_total": "Sessions dropped from the cache to stay within its byte budget.",
        "gatehouse_session_cache_bytes": "What the cached sessions weigh, estimated.",
        "gatehouse_upstream_requests_total":
            "Requests forwarded to an upstream, by its path prefix and outcome: answered, unreachable, timed_out or client_aborted.",
        "gatehouse_upstream_request_duration_seconds": "Time from forwarding a request to the upstream's response head (or its failure), by path prefix.",
    ]

    /// A gateway answers in microseconds to milliseconds; Prometheus's defaults start at 5 ms.
    static let durationBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2.5), .seconds(5), .seconds(10),
    ]

    /// The registry the metrics live in; `nil` when disabled.
    private let registry: PrometheusCollectorRegistry?
    private let counters = MetricHandleCache<Prometheus.Counter>()
    private let histograms = MetricHandleCache<DurationHistogram>()
    private let exportedCacheCounts = ExportedCacheCounts()

    private init(registry: PrometheusCollectorRegistry?) {
        self.registry = registry
    }

    /// Metrics kept in a registry of their own and exported in Prometheus's text format.
    public static func prometheus() -> GatewayMetrics {
        GatewayMetrics(registry: PrometheusCollectorRegistry())
    }

    /// Records nothing and exports nothing.
    public static let disabled = GatewayMetrics(registry: nil)

    /// Prometheus metrics when the configuration enables them, else ``disabled``.
    public static func forConfiguration(_ configuration: GatehouseConfiguration.Metrics) -> GatewayMetrics {
        configuration.enabled ? .prometheus() : .disabled
    }

    /// Everything recorded so far in Prometheus's text exposition format; `nil` when disabled.
    func exposition() -> [UInt8]? {
        registry?.emitToBuffer()
    }

    func recordRequest(method: HTTPRequest.Method, route: String, status: Int, duration: Duration) {
        let method = Self.knownMethods.contains(method) ? method.rawValue : "OTHER"
        counter("gatehouse_http_requests_total", [("method", method), ("route", route), ("status", String(status))])?.increment()
        histogram("gatehouse_http_request_duration_seconds", [("method", method), ("route", route)])?.record(duration)
    }

    func recordLoginSucceeded() {
        counter("gatehouse_logins_succeeded_total")?.increment()
    }

    /// - Parameter reason: the stable code of the error the browser was shown (``GatewayError/code``).
    func recordLoginFailed(reason: String) {
        counter("gatehouse_logins_failed_total", [("reason", reason)])?.increment()
    }

    /// - Parameter outcome: `ok`, or the kind of ``ProviderError`` the call ended with.
    func recordProviderCall(_ operation: ProviderOperation, outcome: String, duration: Duration) {
        counter("gatehouse_provider_calls_total", [("operation", operation.rawValue), ("outcome", outcome)])?.increment()
        histogram("gatehouse_provider_call_duration_seconds", [("operation", operation.rawValue)])?.record(duration)
    }

    /// - Parameters:
    ///   - upstream: the upstream's configured path prefix.
    ///   - outcome: `answered`, `unreachable`, `timed_out`, or `client_aborted` (the client broke off its upload).
    func recordUpstream(_ upstream: String, outcome: String, duration: Duration) {
        counter("gatehouse_upstream_requests_total", [("upstream", upstream), ("outcome", outcome)])?.increment()
        histogram("gatehouse_upstream_request_duration_seconds", [("upstream", upstream)])?.record(duration)
    }

    func recordValidation(_ validation: Validation) {
        counter("gatehouse_session_validations_total", [("result", validation.rawValue)])?.increment()
    }

    func recordLiveSessions(_ count: Int) {
        registry?.makeGauge(descriptor: Self.descriptor("gatehouse_sessions_live")).set(Double(count))
    }

    /// Brings the session cache's families up to `statistics` (its counters move by what they gained since the last call).
    func recordSessionCache(_ statistics: SessionCache.Statistics) {
        guard let registry else { return }
        let last = exportedCacheCounts.exchange(statistics)
        counter("gatehouse_session_cache_hits_total")?.increment(by: Int64(max(0, statistics.hits - last.hits)))
        counter("gatehouse_session_cache_misses_total")?.increment(by: Int64(max(0, statistics.misses - last.misses)))
        counter("gatehouse_session_cache_evictions_total")?.increment(by: Int64(max(0, statistics.evictions - last.evictions)))
        registry.makeGauge(descriptor: Self.descriptor("gatehouse_session_cache_bytes")).set(Double(statistics.bytes))
    }

    private func counter(_ name: String, _ labels: [(String, String)] = []) -> Prometheus.Counter? {
        guard let registry else { return nil }
        return counters.handle(for: .init(name: name, dimensions: labels)) {
            labels.isEmpty ? registry.makeCounter(descriptor: Self.descriptor(name)) : registry.makeCounter(descriptor: Self.descriptor(name), labels: labels)
        }
    }

    private func histogram(_ name: String, _ labels: [(String, String)]) -> DurationHistogram? {
        guard let registry else { return nil }
        return histograms.handle(for: .init(name: name, dimensions: labels)) {
            registry.makeDurationHistogram(descriptor: Self.descriptor(name), labels: labels, buckets: Self.durationBuckets)
        }
    }

    /// The family `name` (a full name, unit included) with its help text.
    private static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help[name] ?? "")
    }

    private static let knownMethods: Set<HTTPRequest.Method> = [.get, .head, .post, .put, .patch, .delete, .options, .connect, .trace]
}

extension ProviderError.Kind {
    /// The `outcome` label of a provider call that failed this way.
    var metricLabel: String {
        switch self {
        case .tokenRejected: "token_rejected"
        case .misconfigured: "misconfigured"
        case .rateLimited: "rate_limited"
        case .unreachable: "unreachable"
        case .timedOut: "timed_out"
        case .badResponse: "bad_response"
        case .loginDenied: "login_denied"
        case .missingCredential: "missing_credential"
        case .malformedCredential: "malformed_credential"
        }
    }
}

/// The session cache's counts as last exported, so each scrape adds only what they gained.
private final class ExportedCacheCounts: Sendable {
    private let last = Mutex(SessionCache.Statistics(hits: 0, misses: 0, evictions: 0, entries: 0, bytes: 0))

    /// The counts last exported; `statistics` from now on.
    func exchange(_ statistics: SessionCache.Statistics) -> SessionCache.Statistics {
        last.withLock { last in
            defer { last = statistics }
            return last
        }
    }
}
