import Foundation

/// The rules of a session's life, applied the same way over every ``SessionStore``.
///
/// A login always gets a new id; every read enforces the idle and absolute timeouts (an expired
/// session is deleted and reads as absent); activity is written at most once per
/// ``Configuration/activityWriteInterval`` so the hot path does not write on every request.
public struct SessionManager: Sendable {
    /// Timeouts and intervals, in seconds.
    public struct Configuration: Sendable, Equatable {
        /// A session unused for this long ends.
        public var idleTimeout: TimeInterval
        /// A session ends this long after login, however busy.
        public var absoluteTimeout: TimeInterval
        /// A profile fetch is trusted this long; 0 asks the provider on every gated request.
        public var revalidateAfter: TimeInterval

        public init(idleTimeout: TimeInterval = 1800, absoluteTimeout: TimeInterval = 28800, revalidateAfter: TimeInterval = 30) {
            self.idleTimeout = idleTimeout
            self.absoluteTimeout = absoluteTimeout
            self.revalidateAfter = revalidateAfter
        }

        /// How stale `lastSeenAt` may get before a read writes it: a tenth of the idle timeout, at most a minute.
        public var activityWriteInterval: TimeInterval {
            min(60, idleTimeout / 10)
        }
    }

    /// The rules in force; a reload of the configuration may change them while sessions live.
    public let rules: Reloadable<Configuration>
    public let store: any SessionStore
    private let now: @Sendable () -> Date

    /// The rules now.
    public var configuration: Configuration { rules.value }

    public init(store: any SessionStore, configuration: Configuration, now: @escaping @Sendable () -> Date = Date.init) {
        self.init(store: store, rules: Reloadable(configuration), now: now)
    }

    public init(store: any SessionStore, rules: Reloadable<Configuration>, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.rules = rules
        self.now = now
    }

    /// Starts a session for a completed login under a new id.
    public func start(_ signIn: SignIn) async throws -> (id: SessionID, session: Session) {
        let id = SessionID.generate()
        let date = now()
        let session = Session(
            key: id.storageKey,
            credentials: signIn.credentials,
            profile: signIn.profile,
            createdAt: date,
            lastSeenAt: date,
            validatedAt: date
        )
        try await store.insert(session)
        return (id, session)
    }

    /// The live session for `id`, or `nil` when there is none or it has timed out (it is then deleted).
    /// Records activity when the last record is older than ``Configuration/activityWriteInterval``.
    public func session(for id: SessionID) async throws -> Session? {
        let key = id.storageKey
        guard var session = try await store.session(for: key) else { return nil }
        let date = now()
        if isExpired(session, at: date) {
            // A cached copy may lag activity recorded elsewhere: only the store's own copy ends a session.
            guard let stored = try await store.storedSession(for: key), !isExpired(stored, at: date) else {
                try await store.delete(key)
                return nil
            }
            session = stored
        }
        if date.timeIntervalSince(session.lastSeenAt) >= configuration.activityWriteInterval {
            try await store.recordActivity(for: key, at: date)
            session.lastSeenAt = date
        }
        return session
    }

    /// How far in the future a recorded time may lie and still be taken as now: clocks of machines
    /// that keep time agree this closely.
    public static let futureTolerance: TimeInterval = 2

    /// The validation time to keep when `recorded` is stored and `date` is written: the later one,
    /// except that a stored time in the future is replaced.
    static func laterValidation(_ recorded: Date, _ date: Date) -> Date {
        recorded.timeIntervalSince(date) > futureTolerance ? date : max(recorded, date)
    }

    /// Whether the provider should be asked again before trusting `session`. A validation time in
    /// the future (this clock stepped back, or another instance's runs fast) is due at once: it
    /// must never make a session fresh for as long as the clocks disagree.
    public func needsRevalidation(_ session: Session) -> Bool {
        let age = now().timeIntervalSince(session.validatedAt)
        return age >= configuration.revalidateAfter || age < -Self.futureTolerance
    }

    /// Records a successful revalidation and returns the updated session. A profile the session
    /// already holds, to the byte, is not written again: only the time is (and new credentials).
    public func recordValidation(of session: Session, _ revalidation: Revalidation) async throws -> Session {
        var session = session
        session.validatedAt = now()
        let changed = revalidation.profile.hasSameText(as: session.profile) ? nil : revalidation.profile
        session.profile = revalidation.profile
        let credentials = revalidation.credentials.flatMap { $0 == session.credentials ? nil : $0 }
        if let credentials { session.credentials = credentials }
        try await store.recordValidation(
            ValidationRecord(
                key: session.key,
                date: session.validatedAt,
                createdAt: session.createdAt,
                userID: session.profile.id,
                profile: changed,
                credentials: credentials
            )
        )
        return session
    }

    /// Ends a session.
    public func end(_ key: SessionKey) async throws {
        try await store.delete(key)
    }

    /// Ends every session of the user with this id, in every browser; returns how many ended.
    public func endAll(ofUser userID: String) async throws -> Int {
        try await store.deleteSessions(ofUser: userID)
    }

    /// What the store holds, live counted as ``liveCount()`` counts.
    public func statistics() async throws -> SessionStatistics {
        let date = now()
        return try await store.statistics(
            idleCutoff: date.addingTimeInterval(-configuration.idleTimeout),
            createdCutoff: date.addingTimeInterval(-configuration.absoluteTimeout)
        )
    }

    /// Removes every expired session from the store; returns how many went.
    @discardableResult
    public func sweep() async throws -> Int {
        let date = now()
        return try await store.deleteExpired(
            idleCutoff: date.addingTimeInterval(-configuration.idleTimeout),
            createdCutoff: date.addingTimeInterval(-configuration.absoluteTimeout)
        )
    }

    /// How many sessions in the store are live now.
    public func liveCount() async throws -> Int {
        let date = now()
        return try await store.countLive(
            idleCutoff: date.addingTimeInterval(-configuration.idleTimeout),
            createdCutoff: date.addingTimeInterval(-configuration.absoluteTimeout)
        )
    }

    func isExpired(_ session: Session, at date: Date) -> Bool {
        date.timeIntervalSince(session.lastSeenAt) >= configuration.idleTimeout
            || date.timeIntervalSince(session.createdAt) >= configuration.absoluteTimeout
    }
}
