import Synchronization

/// How many provider calls logins may have in flight at once. A login over the budget fails at
/// once (503 with `Retry-After`) instead of queueing for the HTTP pool that revalidation uses, so
/// a flood of bogus callbacks costs its sender, and signed-in users' requests keep their connections.
final class ProviderCallBudget: Sendable {
    let limit: Int
    private let inFlight = Mutex(0)

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Runs `call` within the budget; `nil` without running it when the budget is spent.
    func run<Result: Sendable>(_ call: () async -> Result) async -> Result? {
        let admitted = inFlight.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard admitted else { return nil }
        defer { inFlight.withLock { $0 -= 1 } }
        return await call()
    }

    /// Calls in flight now.
    var current: Int { inFlight.withLock { $0 } }
}
