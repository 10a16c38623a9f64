import Foundation

/// The login states already used, kept until they would have expired anyway: what makes a state
/// single-use when the attempt itself lives in the browser.
///
/// One gateway keeps them in memory; several share them in PostgreSQL, so a state spent on one
/// instance is spent on all.
public protocol SpentLoginStateStore: Sendable {
    /// Marks `attempt`'s state as used. `true` the first time, `false` when it was used before or
    /// the store can no longer vouch that it was not; never `true` twice for one state.
    ///
    /// - Parameter expiresAt: when the attempt expires; the state need not be kept past it.
    func spend(_ attempt: LoginAttempt, expiresAt: Date) async throws -> Bool
}

/// Spent login states in this process's memory, bounded in number.
///
/// Past ``capacity`` the oldest entries are dropped, and every attempt issued at or before the
/// newest dropped one is refused from then on (a watermark): the store forgets, but a forgotten
/// state still cannot be used again. Only a flood of completed callbacks can move the watermark,
/// and each of those costs the sender a full `/login` round trip first.
public actor MemorySpentLoginStateStore: SpentLoginStateStore {
    /// The most spent states held at once.
    public let capacity: Int
    private let now: @Sendable () -> Date
    private var spent: [Data: Date] = [:]
    /// Spent states in the order they were spent, with their issue time; consumed lazily.
    private var queue: [(key: Data, issuedAt: Date)] = []
    private var queueStart = 0
    /// Attempts issued at or before this are refused.
    private var watermark = Date.distantPast

    public init(capacity: Int = 100_000, now: @escaping @Sendable () -> Date = Date.init) {
        self.capacity = max(1, capacity)
        self.now = now
    }

    /// How many spent states are held.
    public var count: Int { spent.count }

    public func spend(_ attempt: LoginAttempt, expiresAt: Date) -> Bool {
        let date = now()
        evict(at: date)
        let key = LoginAttempt.storageKey(for: attempt.state)
        guard attempt.issuedAt > watermark, spent[key] == nil else { return false }
        spent[key] = expiresAt
        queue.append((key, attempt.issuedAt))
        return true
    }

    private func evict(at date: Date) {
        while queueStart < queue.count {
            let entry = queue[queueStart]
            if let expiry = spent[entry.key] {
                let expired = expiry <= date
                guard expired || spent.count >= capacity else { break }
                if !expired { watermark = max(watermark, entry.issuedAt) }
                spent[entry.key] = nil
            }
            queueStart += 1
        }
        // Reclaim the consumed prefix once it dominates the array.
        if queueStart > 1024, queueStart * 2 > queue.count {
            queue.removeFirst(queueStart)
            queueStart = 0
        }
    }
}
