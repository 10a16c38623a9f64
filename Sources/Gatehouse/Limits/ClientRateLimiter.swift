import Synchronization

/// A token bucket per client: each may make `perMinute` requests a minute, in bursts of up to
/// `burst`, and is told how long to wait when it has made more.
///
/// At most ``capacity`` clients are tracked; when that many are, those whose buckets have filled
/// again (idle long enough to be owed nothing) are forgotten, and if all are busy, all are. The
/// table is bounded however many addresses a flood comes from.
final class ClientRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let perMinute: Int
    let burst: Int
    let capacity: Int
    private let buckets = Mutex<[ClientAddress: Bucket]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant

    init(perMinute: Int, burst: Int? = nil, capacity: Int = 50_000, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.perMinute = max(1, perMinute)
        self.burst = max(1, burst ?? max(10, perMinute / 2))
        self.capacity = max(1, capacity)
        self.now = now
    }

    /// Takes one request from `client`'s bucket: `nil` when it may go ahead, or how long until it may.
    func admit(_ client: ClientAddress) -> Duration? {
        let date = now()
        let rate = Double(perMinute) / 60
        return buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: Double(burst), updated: date)
            let elapsed = date - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(Double(burst), bucket.tokens + seconds * rate)
            bucket.updated = date
            guard bucket.tokens >= 1 else {
                buckets[client] = bucket
                return .seconds(max(1, ((1 - bucket.tokens) / rate).rounded(.up)))
            }
            bucket.tokens -= 1
            if buckets[client] == nil, buckets.count >= capacity {
                Self.forgetIdle(&buckets, at: date, rate: rate, burst: Double(burst), capacity: capacity)
            }
            buckets[client] = bucket
            return nil
        }
    }

    private static func forgetIdle(_ buckets: inout [ClientAddress: Bucket], at date: ContinuousClock.Instant, rate: Double, burst: Double, capacity: Int) {
        let refillTime = Duration.seconds(burst / rate)
        buckets = buckets.filter { date - $0.value.updated < refillTime }
        if buckets.count >= capacity { buckets.removeAll() }
    }

    /// How many clients are tracked.
    var trackedClients: Int { buckets.withLock { $0.count } }
}
