import Foundation
import NIOCore
import Synchronization

/// Sessions held in this process in front of a durable store, so a gated request whose session
/// is cached touches neither the database nor the cipher.
///
/// The cache is bounded in bytes (an estimate of each session's size) and evicts by the clock
/// algorithm: a session read since the hand last passed it gets a second chance. It is only ever
/// as good as what tells it about writes made elsewhere (``SessionCacheCoherence``): while that
/// cannot vouch for it, the cache is *distrusted* and answers nothing, so every read goes to the store.
///
/// Reads that miss fill the cache with what the store answered, but only when nothing was
/// invalidated between the miss and the fill (the ``Miss`` ticket carries the generation):
/// a read that raced a revocation can never put the revoked session back.
public final class SessionCache: Sendable {
    /// What the cache has done since it was made, for `/metrics`.
    public struct Statistics: Sendable, Equatable {
        public var hits: Int
        public var misses: Int
        public var evictions: Int
        public var entries: Int
        public var bytes: Int
    }

    /// A miss, and the generation the cache was at when it happened (nil while distrusted).
    public struct Miss: Sendable {
        fileprivate let generation: UInt64?
    }

    /// What a ``lookup(_:)`` found.
    public enum Lookup: Sendable {
        case hit(Session)
        case miss(Miss)
    }

    /// The default budget: 64 MiB holds some 30,000 sessions of a typical profile.
    public static let defaultByteBudget = 64 * 1024 * 1024

    private struct Entry {
        var session: Session
        var bytes: Int
        var referenced: Bool
    }

    private struct State {
        var entries: [SessionKey: Entry] = [:]
        /// The clock's ring: every cached key once, plus keys since removed (skipped when reached).
        var ring = CircularBuffer<SessionKey>()
        var bytes = 0
        /// Moves on every invalidation.
        var generation: UInt64 = 0
        var trusted: Bool
    }

    /// The most the cached sessions may weigh, by ``Session/estimatedBytes``.
    public let byteBudget: Int
    private let state: Mutex<State>
    private let hits = Atomic<Int>(0)
    private let misses = Atomic<Int>(0)
    private let evictions = Atomic<Int>(0)

    /// - Parameter trusted: whether the cache may answer from the start; a cache kept true by
    ///   notifications starts distrusted, until they flow.
    public init(byteBudget: Int = SessionCache.defaultByteBudget, trusted: Bool = true) {
        self.byteBudget = byteBudget
        self.state = Mutex(State(trusted: trusted))
    }

    /// The cached session for `key`, or a ``Miss`` to fill with what the store answers.
    public func lookup(_ key: SessionKey) -> Lookup {
        let found = state.withLock { state -> Lookup in
            guard state.trusted else { return .miss(Miss(generation: nil)) }
            guard state.entries[key] != nil else { return .miss(Miss(generation: state.generation)) }
            state.entries[key]!.referenced = true
            return .hit(state.entries[key]!.session)
        }
        switch found {
        case .hit: hits.add(1, ordering: .relaxed)
        case .miss: misses.add(1, ordering: .relaxed)
        }
        return found
    }

    /// Caches what the store answered after `miss`, unless the cache was invalidated (or
    /// distrusted) since.
    public func fill(_ session: Session, after miss: Miss) {
        state.withLock { state in
            guard state.trusted, let generation = miss.generation, generation == state.generation else { return }
            place(session, in: &state)
        }
    }

    /// Caches a session this process just wrote.
    public func insert(_ session: Session) {
        state.withLock { state in
            guard state.trusted else { return }
            place(session, in: &state)
        }
    }

    /// Changes the cached session for `key`, if there is one, as this process just changed it in the store.
    public func update(_ key: SessionKey, _ change: (inout Session) -> Void) {
        state.withLock { state in
            guard var entry = state.entries[key] else { return }
            change(&entry.session)
            let bytes = entry.session.estimatedBytes
            state.bytes += bytes - entry.bytes
            entry.bytes = bytes
            state.entries[key] = entry
            evictWhileOverBudget(&state)
        }
    }

    /// Forgets the session for `key`.
    public func invalidate(_ key: SessionKey) {
        state.withLock { state in
            state.generation &+= 1
            if let gone = state.entries.removeValue(forKey: key) { state.bytes -= gone.bytes }
        }
    }

    /// Forgets every cached session that `isGone` picks.
    public func invalidateAll(where isGone: (Session) -> Bool) {
        state.withLock { state in
            state.generation &+= 1
            for (key, entry) in state.entries where isGone(entry.session) {
                state.entries[key] = nil
                state.bytes -= entry.bytes
            }
        }
    }

    /// Forgets everything.
    public func flush() {
        state.withLock { state in Self.empty(&state) }
    }

    /// Whether the cache may answer now.
    public var isTrusted: Bool { state.withLock { $0.trusted } }

    /// Lets the cache answer again, starting empty: what happened while it was distrusted is unknown.
    public func trust() {
        state.withLock { state in
            Self.empty(&state)
            state.trusted = true
        }
    }

    /// Stops the cache answering, and empties it, until ``trust()``.
    public func distrust() {
        state.withLock { state in
            Self.empty(&state)
            state.trusted = false
        }
    }

    public var statistics: Statistics {
        let (entries, bytes) = state.withLock { ($0.entries.count, $0.bytes) }
        return Statistics(
            hits: hits.load(ordering: .relaxed),
            misses: misses.load(ordering: .relaxed),
            evictions: evictions.load(ordering: .relaxed),
            entries: entries,
            bytes: bytes
        )
    }

    private static func empty(_ state: inout State) {
        state.generation &+= 1
        state.entries.removeAll()
        state.ring.removeAll()
        state.bytes = 0
    }

    private func place(_ session: Session, in state: inout State) {
        let bytes = session.estimatedBytes
        guard bytes <= byteBudget else { return }
        if let old = state.entries[session.key] {
            state.bytes -= old.bytes
        } else {
            state.ring.append(session.key)
        }
        state.entries[session.key] = Entry(session: session, bytes: bytes, referenced: false)
        state.bytes += bytes
        evictWhileOverBudget(&state)
        // Keys removed by invalidation stay in the ring until the hand reaches them; keep it near the live count.
        if state.ring.count > 2 * state.entries.count + 1024 {
            state.ring = CircularBuffer(state.entries.keys)
        }
    }

    private func evictWhileOverBudget(_ state: inout State) {
        while state.bytes > byteBudget, let key = state.ring.popFirst() {
            guard let entry = state.entries[key] else { continue }
            if entry.referenced {
                state.entries[key]!.referenced = false
                state.ring.append(key)
            } else {
                state.entries[key] = nil
                state.bytes -= entry.bytes
                evictions.add(1, ordering: .relaxed)
            }
        }
    }
}

extension Session {
    /// About what the session weighs in memory: its texts and tokens, and a fixed share for the
    /// rest (the key, dates, headers of the heap objects, the cache's own entry).
    var estimatedBytes: Int {
        let texts = profile.json.count + profile.id.utf8.count + (profile.email?.utf8.count ?? 0) + (profile.name?.utf8.count ?? 0)
        let tokens =
            credentials.accessToken.value.utf8.count + (credentials.refreshToken?.value.utf8.count ?? 0) + (credentials.idToken?.value.utf8.count ?? 0)
        return 320 + texts + tokens
    }
}
