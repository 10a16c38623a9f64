import Foundation

/// What logins have used up, kept until it would have expired anyway: the login states (what makes
/// a state single-use when the attempt itself lives in the browser) and the credentials logins
/// produced (what keeps one provider token from opening more than one session).
///
/// One gateway keeps them in memory; several share them in PostgreSQL, so what is spent on one
/// instance is spent on all.
public protocol SpentLoginStateStore: Sendable {
    /// Marks `attempt`'s state as used. `true` the first time, `false` when it was used before or
    /// the store can no longer vouch that it was not; never `true` twice for one state.
    ///
    /// - Parameter expiresAt: when the attempt expires; the state need not be kept past it.
    func spend(_ attempt: LoginAttempt, expiresAt: Date) async throws -> Bool

    /// Marks a credential (``SpentCredentials/key(for:)``) as used by a login: `true` the first time,
    /// `false` while it is remembered as used or denied.
    func spendCredential(_ key: Data, expiresAt: Date) async throws -> Bool

    /// Keeps a credential refused until at least `until` (a revocation at the provider failed).
    func denyCredential(_ key: Data, until: Date) async throws
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
    private var spent: [Digest: Date] = [:]
    /// Spent states in the order they were spent, with their issue time; consumed lazily.
    private var queue: [(key: Digest, issuedAt: Date)] = []
    private var queueStart = 0
    /// Attempts issued at or before this are refused.
    private var watermark = Date.distantPast
    /// Credentials spent or denied, until when; and their order, for eviction.
    private var credentials: [Digest: Date] = [:]
    private var credentialOrder: [Digest] = []
    private var credentialOrderStart = 0

    public init(capacity: Int = 100_000, now: @escaping @Sendable () -> Date = Date.init) {
        self.capacity = max(1, capacity)
        self.now = now
    }

    /// How many spent states are held.
    public var count: Int { spent.count }

    public func spend(_ attempt: LoginAttempt, expiresAt: Date) -> Bool {
        let date = now()
        evict(at: date)
        let key = Digest(LoginAttempt.storageKey(for: attempt.state))
        guard attempt.issuedAt > watermark, spent[key] == nil else { return false }
        spent[key] = expiresAt
        queue.append((key, attempt.issuedAt))
        return true
    }

    // MARK: Credentials

    public func spendCredential(_ data: Data, expiresAt: Date) -> Bool {
        let key = Digest(data)
        let date = now()
        evictCredentials(at: date)
        if let until = credentials[key], until > date { return false }
        remember(key, until: expiresAt)
        return true
    }

    public func denyCredential(_ data: Data, until: Date) {
        let key = Digest(data)
        evictCredentials(at: now())
        remember(key, until: max(until, credentials[key] ?? until))
    }

    private func remember(_ key: Digest, until: Date) {
        if credentials.updateValue(until, forKey: key) == nil { credentialOrder.append(key) }
    }

    /// Drops expired credentials, and past ``capacity`` the oldest: a credential forgotten that way
    /// could open one more session, which a flood of real logins at the provider would be needed for.
    private func evictCredentials(at date: Date) {
        while credentialOrderStart < credentialOrder.count {
            let key = credentialOrder[credentialOrderStart]
            if let until = credentials[key] {
                guard until <= date || credentials.count >= capacity else { break }
                credentials[key] = nil
            }
            credentialOrderStart += 1
        }
        if credentialOrderStart > 1024, credentialOrderStart * 2 > credentialOrder.count {
            credentialOrder.removeFirst(credentialOrderStart)
            credentialOrderStart = 0
        }
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
