import CoreMetrics
import HTTPTypes
import Metrics
import Prometheus

/// What the gateway counts and times, named for Prometheus (the README lists them).
///
/// Metrics are made through swift-metrics with an explicit factory, not the process-wide
/// `MetricsSystem`, so each gateway in a process (and each test) counts on its own. Labels only
/// ever take values from small fixed sets (matched routes, status codes, error codes), so no
/// request can grow the number of series.
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

    private let factory: any MetricsFactory
    /// The registry the factory feeds, when the metrics are exported.
    private let registry: PrometheusCollectorRegistry?
    private let counters = MetricHandleCache<CoreMetrics.Counter>()
    private let timers = MetricHandleCache<CoreMetrics.Timer>()

    private init(factory: any MetricsFactory, registry: PrometheusCollectorRegistry?) {
        self.factory = factory
        self.registry = registry
    }

    /// Metrics kept in a registry of their own and exported in Prometheus's text format.
    public static func prometheus() -> GatewayMetrics {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // A gateway answers in microseconds to milliseconds; the defaults start at 5 ms.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .seconds(2.5), .seconds(5), .seconds(10),
        ]
        return GatewayMetrics(factory: factory, registry: registry)
    }

    /// Records nothing and exports nothing.
    public static let disabled = GatewayMetrics(factory: NOOPMetricsHandler.instance, registry: nil)

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
        counter("gatehouse_http_requests_total", [("method", method), ("route", route), ("status", String(status))]).increment()
        timer("gatehouse_http_request_duration_seconds", [("method", method), ("route", route)]).record(duration: duration)
    }

    func recordLoginSucceeded() {
        counter("gatehouse_logins_succeeded_total").increment()
    }

    /// - Parameter reason: the stable code of the error the browser was shown (``GatewayError/code``).
    func recordLoginFailed(reason: String) {
        counter("gatehouse_logins_failed_total", [("reason", reason)]).increment()
    }

    /// - Parameter outcome: `ok`, or the kind of ``ProviderError`` the call ended with.
    func recordProviderCall(_ operation: ProviderOperation, outcome: String, duration: Duration) {
        counter("gatehouse_provider_calls_total", [("operation", operation.rawValue), ("outcome", outcome)]).increment()
        timer("gatehouse_provider_call_duration_seconds", [("operation", operation.rawValue)]).record(duration: duration)
    }

    func recordValidation(_ validation: Validation) {
        counter("gatehouse_session_validations_total", [("result", validation.rawValue)]).increment()
    }

    func recordLiveSessions(_ count: Int) {
        Gauge(label: "gatehouse_sessions_live", factory: factory).record(count)
    }

    private func counter(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
        counters.handle(for: .init(name: label, dimensions: dimensions)) {
            CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
        }
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Timer {
        timers.handle(for: .init(name: label, dimensions: dimensions)) {
            CoreMetrics.Timer(label: label, dimensions: dimensions, factory: factory)
        }
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
