import Foundation

/// Sessions in this process's memory: fast, gone on restart, not shared between instances.
///
/// The sessions sit in one dense array, found by an index of their keys: a dictionary's spare
/// buckets then hold a key and a number rather than a whole session, which at 100,000 sessions
/// is tens of megabytes.
public actor MemorySessionStore: SessionStore {
    private var sessions: [Session] = []
    private var positions: [SessionKey: Int] = [:]

    public init() {}

    /// How many sessions are held, expired ones included until swept.
    public var count: Int { sessions.count }

    public func insert(_ session: Session) {
        if let position = positions[session.key] {
            sessions[position] = session
        } else {
            positions[session.key] = sessions.count
            sessions.append(session)
        }
    }

    public func session(for key: SessionKey) -> Session? {
        positions[key].map { sessions[$0] }
    }

    public func recordActivity(for key: SessionKey, at date: Date) {
        guard let position = positions[key] else { return }
        sessions[position].lastSeenAt = max(sessions[position].lastSeenAt, date)
    }

    public func recordValidation(_ validation: ValidationRecord) {
        guard let position = positions[validation.key] else { return }
        sessions[position].validatedAt = SessionManager.laterValidation(sessions[position].validatedAt, validation.date)
        if let profile = validation.profile {
            sessions[position].profile = profile
        }
        if let credentials = validation.credentials {
            sessions[position].credentials = credentials
        }
    }

    public func delete(_ key: SessionKey) {
        guard let position = positions.removeValue(forKey: key) else { return }
        // The last session takes the freed place.
        let last = sessions.removeLast()
        if position < sessions.count {
            sessions[position] = last
            positions[last.key] = position
        }
    }

    public func deleteExpired(idleCutoff: Date, createdCutoff: Date) -> Int {
        removeAll { $0.lastSeenAt < idleCutoff || $0.createdAt < createdCutoff }
    }

    public func countLive(idleCutoff: Date, createdCutoff: Date) -> Int {
        sessions.count { $0.lastSeenAt > idleCutoff && $0.createdAt > createdCutoff }
    }

    public func deleteSessions(ofUser userID: String) -> Int {
        removeAll { $0.profile.id == userID }
    }

    public func statistics(idleCutoff: Date, createdCutoff: Date) -> SessionStatistics {
        let live = sessions.filter { $0.lastSeenAt > idleCutoff && $0.createdAt > createdCutoff }
        return SessionStatistics(stored: sessions.count, live: live.count, liveUsers: Set(live.map(\.profile.id)).count)
    }

    public func checkHealth() {}

    /// Removes the sessions `isGone` picks and rebuilds the index; returns how many went.
    private func removeAll(where isGone: (Session) -> Bool) -> Int {
        let before = sessions.count
        sessions.removeAll(where: isGone)
        guard sessions.count != before else { return 0 }
        positions = Dictionary(uniqueKeysWithValues: sessions.enumerated().map { ($1.key, $0) })
        return before - sessions.count
    }
}
