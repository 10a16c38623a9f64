import Foundation

/// What keeps a ``SessionCache`` true to a store that is also written from elsewhere (another
/// process on the SQLite file, other instances on PostgreSQL).
public protocol SessionCacheCoherence: Sendable {
    /// Called before every cached read: brings `cache` up to date with writes made elsewhere
    /// (invalidating or flushing it), and says whether this read may be answered from it.
    func prepareRead(of cache: SessionCache) async -> Bool
}

/// A store whose sessions only this process writes, or whose cache is kept true by other means
/// (notifications that distrust the cache when they stop): every read may use the cache.
public struct NoOtherWriters: SessionCacheCoherence {
    public init() {}
    public func prepareRead(of cache: SessionCache) async -> Bool { true }
}

/// A durable ``SessionStore`` behind a ``SessionCache``: reads are answered from memory when the
/// session is cached, and every write goes to the store first, then to the cache.
///
/// Writes made elsewhere reach the cache through its ``SessionCacheCoherence``. Decisions that
/// end a session are taken on the store's own copy (``storedSession(for:)``), never on a cached one.
public final class CachedSessionStore: SessionStore {
    /// The store the sessions live in.
    public let base: any SessionStore
    public let cache: SessionCache
    private let coherence: any SessionCacheCoherence

    public init(base: any SessionStore, cache: SessionCache, coherence: any SessionCacheCoherence = NoOtherWriters()) {
        self.base = base
        self.cache = cache
        self.coherence = coherence
    }

    public func insert(_ session: Session) async throws {
        try await base.insert(session)
        cache.insert(session)
    }

    public func session(for key: SessionKey) async throws -> Session? {
        guard await coherence.prepareRead(of: cache) else { return try await base.session(for: key) }
        switch cache.lookup(key) {
        case .hit(let session):
            return session
        case .miss(let miss):
            guard let session = try await base.session(for: key) else { return nil }
            cache.fill(session, after: miss)
            return session
        }
    }

    public func storedSession(for key: SessionKey) async throws -> Session? {
        cache.invalidate(key)
        return try await base.session(for: key)
    }

    public func recordActivity(for key: SessionKey, at date: Date) async throws {
        try await base.recordActivity(for: key, at: date)
        cache.update(key) { $0.lastSeenAt = max($0.lastSeenAt, date) }
    }

    public func recordValidation(_ validation: ValidationRecord) async throws {
        do {
            try await base.recordValidation(validation)
        } catch {
            // The write may have landed or not: the cached copy is no longer known to be the stored one.
            cache.invalidate(validation.key)
            throw error
        }
        cache.update(validation.key) { session in
            session.validatedAt = SessionManager.laterValidation(session.validatedAt, validation.date)
            if let profile = validation.profile { session.profile = profile }
            if let credentials = validation.credentials { session.credentials = credentials }
        }
    }

    public func delete(_ key: SessionKey) async throws {
        // Before and after: a read that began before the delete landed must not cache the old row.
        cache.invalidate(key)
        defer { cache.invalidate(key) }
        try await base.delete(key)
    }

    public func deleteExpired(idleCutoff: Date, createdCutoff: Date) async throws -> Int {
        defer { cache.invalidateAll { $0.lastSeenAt < idleCutoff || $0.createdAt < createdCutoff } }
        return try await base.deleteExpired(idleCutoff: idleCutoff, createdCutoff: createdCutoff)
    }

    public func countLive(idleCutoff: Date, createdCutoff: Date) async throws -> Int {
        try await base.countLive(idleCutoff: idleCutoff, createdCutoff: createdCutoff)
    }

    public func deleteSessions(ofUser userID: String) async throws -> Int {
        cache.invalidateAll { $0.profile.id == userID }
        defer { cache.invalidateAll { $0.profile.id == userID } }
        return try await base.deleteSessions(ofUser: userID)
    }

    public func statistics(idleCutoff: Date, createdCutoff: Date) async throws -> SessionStatistics {
        try await base.statistics(idleCutoff: idleCutoff, createdCutoff: createdCutoff)
    }

    public func checkHealth() async throws {
        try await base.checkHealth()
    }

    public func opensStoredSessions() async throws -> Bool {
        try await base.opensStoredSessions()
    }
}
