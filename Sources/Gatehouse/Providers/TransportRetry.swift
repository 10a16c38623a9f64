/// When a provider call is tried again: once, only if no answer arrived at all, after a random pause.
///
/// A dropped connection is worth a second attempt (a provider's load balancer recycling a
/// connection should not fail a login), but an HTTP error, a timeout or a bad answer is not: those
/// fail at once, so a struggling provider is never retried into a storm. The pause is drawn at
/// random so that many gateways failing together do not all come back at the same instant.
public struct TransportRetry: Sendable {
    /// How many attempts a call gets in all (1 disables retrying).
    public var attempts: Int
    /// The range the pause before a retry is drawn from.
    public var pause: ClosedRange<Duration>

    public init(attempts: Int = 2, pause: ClosedRange<Duration> = .milliseconds(20)...(.milliseconds(120))) {
        self.attempts = max(1, attempts)
        self.pause = pause
    }

    /// Runs `operation`, running it again while it fails with an error `isTransportFailure` accepts
    /// and attempts remain.
    public func run<Value>(
        isTransportFailure: (any Error) -> Bool,
        _ operation: () async throws -> Value
    ) async throws -> Value {
        var attempt = 1
        while true {
            do {
                return try await operation()
            } catch  where attempt < attempts && isTransportFailure(error) {
                attempt += 1
                try await Task.sleep(for: randomPause())
            }
        }
    }

    func randomPause() -> Duration {
        let low = pause.lowerBound.components
        let high = pause.upperBound.components
        let lowNanos = low.seconds * 1_000_000_000 + low.attoseconds / 1_000_000_000
        let highNanos = high.seconds * 1_000_000_000 + high.attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: lowNanos...max(lowNanos, highNanos)))
    }
}
