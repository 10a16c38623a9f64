import Foundation

/// A login in flight: the nonce that ties the provider's callback to the browser that started it.
public struct PendingLogin: Sendable, Equatable {
    /// The single-use nonce: 256 random bits, base64url. Also the value of the state cookie.
    public let state: String
    /// Where to send the browser after the login, already validated.
    public let next: String?
    /// After this, the callback is refused.
    public let expiresAt: Date
}

/// The logins in flight, each usable once and for a short time, and bounded in number so a flood
/// of `/login` requests cannot grow memory: past ``capacity`` the oldest are forgotten.
public actor LoginStateStore {
    /// How long a browser has to come back from the hosted page.
    public let lifetime: TimeInterval
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

    /// Starts a login and returns its nonce.
    public func begin(next: String?) -> PendingLogin {
        let date = now()
        evict(at: date)
        let login = PendingLogin(state: Self.newState(), next: next, expiresAt: date.addingTimeInterval(lifetime))
        pending[login.state] = login
        queue.append(login.state)
        return login
    }

    /// Takes the login for `state`: returns it at most once, and never after it expired.
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

    static func newState() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// Compares two states in constant time (for the state cookie against the callback's state).
    public static func statesMatch(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices {
            difference |= left[index] ^ right[index]
        }
        return difference == 0
    }
}
