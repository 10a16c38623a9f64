import Foundation

/// The live-session count `/metrics` reports, asked of the store at most once per `maximumAge`:
/// scraping, however often and by however many, cannot load the store.
actor LiveSessionCount {
    private let sessions: SessionManager
    private let maximumAge: Duration
    private var last: (at: ContinuousClock.Instant, count: Int)?
    private var counting: Task<Int, any Error>?

    init(sessions: SessionManager, maximumAge: Duration = .seconds(15)) {
        self.sessions = sessions
        self.maximumAge = maximumAge
    }

    /// The count, fresh from the store when the last is older than `maximumAge`; concurrent
    /// callers share one count.
    func value() async throws -> Int {
        if let last, ContinuousClock.now - last.at < maximumAge { return last.count }
        if let counting { return try await counting.value }
        let sessions = self.sessions
        let task = Task { try await sessions.liveCount() }
        counting = task
        defer { counting = nil }
        let count = try await task.value
        last = (ContinuousClock.now, count)
        return count
    }
}
