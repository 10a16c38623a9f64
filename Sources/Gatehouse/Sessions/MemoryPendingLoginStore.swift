import Foundation

/// Logins in flight in this process's memory, each usable once and for a short time, and bounded
/// in number so a flood of `/login` requests cannot grow memory: past ``capacity`` the oldest are
/// forgotten. For one gateway; several share ``PostgresPendingLoginStore``.
public actor MemoryPendingLoginStore: PendingLoginStore {
    public nonisolated let lifetime: TimeInterval
    /// The most logins held at once.
    public let capacity: Int
    private let now: @Sendable () -> Date
    private var pending: [String: PendingLogin] = [:]
    /// States in issue order, which is expiry order; entries already consumed are skipped lazily.
    private var queue: [String] = []
    private var queueStart = 0

    public init(lifetime: TimeInterval = 600, capacity: Int = 10_000, now: @escaping @Sendable () -> Date = Date.init) {
        self.lifetime = lifetime
        self.capacity = max(1, capacity)
        self.now = now
    }

    /// How many logins are in flight.
    public var count: Int { pending.count }

    public func begin(next: String?) -> PendingLogin {
        let date = now()
        evict(at: date)
        let login = PendingLogin(state: PendingLogin.newState(), next: next, expiresAt: date.addingTimeInterval(lifetime))
        pending[login.state] = login
        queue.append(login.state)
        return login
    }

    public func complete(state: String) -> PendingLogin? {
        guard let login = pending.removeValue(forKey: state) else { return nil }
        return login.expiresAt > now() ? login : nil
    }

    private func evict(at date: Date) {
        while queueStart < queue.count {
            let state = queue[queueStart]
            if let login = pending[state], login.expiresAt > date, pending.count < capacity {
                break
            }
            pending[state] = nil
            queueStart += 1
        }
        // Reclaim the consumed prefix once it dominates the array.
        if queueStart > 1024, queueStart * 2 > queue.count {
            queue.removeFirst(queueStart)
            queueStart = 0
        }
    }
}
