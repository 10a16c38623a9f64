import Foundation

/// Sessions in this process's memory: fast, gone on restart, not shared between instances.
public actor MemorySessionStore: SessionStore {
    private var sessions: [SessionKey: Session] = [:]

    public init() {}

    /// How many sessions are held, expired ones included until swept.
    public var count: Int { sessions.count }

    public func insert(_ session: Session) {
        sessions[session.key] = session
    }

    public func session(for key: SessionKey) -> Session? {
        sessions[key]
    }

    public func recordActivity(for key: SessionKey, at date: Date) {
        guard let current = sessions[key]?.lastSeenAt else { return }
        sessions[key]?.lastSeenAt = max(current, date)
    }

    public func recordValidation(_ validation: ValidationRecord) {
        guard let current = sessions[validation.key]?.validatedAt else { return }
        sessions[validation.key]?.validatedAt = SessionManager.laterValidation(current, validation.date)
        if let profile = validation.profile {
            sessions[validation.key]?.profile = profile
        }
        if let credentials = validation.credentials {
            sessions[validation.key]?.credentials = credentials
        }
    }

    public func delete(_ key: SessionKey) {
        sessions[key] = nil
    }

    public func deleteExpired(idleCutoff: Date, createdCutoff: Date) -> Int {
        let before = sessions.count
        sessions = sessions.filter { $0.value.lastSeenAt >= idleCutoff && $0.value.createdAt >= createdCutoff }
        return before - sessions.count
    }

    public func countLive(idleCutoff: Date, createdCutoff: Date) -> Int {
        sessions.values.count { $0.lastSeenAt > idleCutoff && $0.createdAt > createdCutoff }
    }

    public func deleteSessions(ofUser userID: String) -> Int {
        let before = sessions.count
        sessions = sessions.filter { $0.value.profile.id != userID }
        return before - sessions.count
    }

    public func statistics(idleCutoff: Date, createdCutoff: Date) -> SessionStatistics {
        let live = sessions.values.filter { $0.lastSeenAt > idleCutoff && $0.createdAt > createdCutoff }
        return SessionStatistics(stored: sessions.count, live: live.count, liveUsers: Set(live.map(\.profile.id)).count)
    }

    public func checkHealth() {}
}
