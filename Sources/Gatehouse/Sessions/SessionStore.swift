import Foundation

/// What a revalidation changed, for ``SessionStore/recordValidation(_:)``.
public struct ValidationRecord: Sendable {
    public var key: SessionKey
    public var date: Date
    /// When the session began: new sealed values authenticate it.
    public var createdAt: Date
    /// The session's user id (unchanged by revalidation), for rows that do not carry its key yet.
    public var userID: String
    /// The new profile, or `nil` when it is, to the byte, the one the session holds.
    public var profile: UserProfile?
    /// The new credentials, or `nil` when the provider issued none.
    public var credentials: Credentials?

    public init(key: SessionKey, date: Date, createdAt: Date, userID: String, profile: UserProfile?, credentials: Credentials?) {
        self.key = key
        self.date = date
        self.createdAt = createdAt
        self.userID = userID
        self.profile = profile
        self.credentials = credentials
    }
}

/// Counts of what a session store holds.
public struct SessionStatistics: Sendable, Equatable {
    /// Every row, expired ones included until swept.
    public var stored: Int
    /// Sessions within their idle and absolute timeouts.
    public var live: Int
    /// Users with at least one live session.
    public var liveUsers: Int

    public init(stored: Int, live: Int, liveUsers: Int) {
        self.stored = stored
        self.live = live
        self.liveUsers = liveUsers
    }
}

/// Where sessions live: memory, a SQLite file, or a database shared by many gateways.
///
/// Stores are plain keyed storage; the rules (timeouts, rotation, revalidation) live in
/// ``SessionManager`` so every store enforces them the same way. Stores that write to disk seal
/// the credentials and profile (see ``SessionSealer``) and never see a session id, only its ``SessionKey``.
public protocol SessionStore: Sendable {
    /// Stores a new session.
    func insert(_ session: Session) async throws
    /// The session stored under `key`, if any, expired or not.
    func session(for key: SessionKey) async throws -> Session?
    /// The session as the store itself holds it now, past any cache in front of it: for decisions
    /// that end a session or give up on its credentials.
    func storedSession(for key: SessionKey) async throws -> Session?
    /// Records that the session was used at `date`. Recorded times never move backwards, so
    /// concurrent writers (or instances) cannot undo each other's later activity.
    func recordActivity(for key: SessionKey, at date: Date) async throws
    /// Records that the provider confirmed the session, in one write: the time, and the profile
    /// and credentials when they changed (nothing else is re-sealed). `validatedAt` never moves
    /// backwards either, and new credentials (a rotated refresh token) replace the old at once.
    func recordValidation(_ validation: ValidationRecord) async throws
    /// Removes a session; removing one that is not there is not an error.
    func delete(_ key: SessionKey) async throws
    /// Removes sessions idle since before `idleCutoff` or created before `createdCutoff`;
    /// returns how many went.
    func deleteExpired(idleCutoff: Date, createdCutoff: Date) async throws -> Int
    /// How many sessions were seen after `idleCutoff` and created after `createdCutoff` (for `/metrics`).
    func countLive(idleCutoff: Date, createdCutoff: Date) async throws -> Int
    /// Removes every session of the user with this id, wherever it was started; returns how many went.
    func deleteSessions(ofUser userID: String) async throws -> Int
    /// What the store holds, for `gatehouse sessions stats`; live as ``countLive(idleCutoff:createdCutoff:)`` counts.
    func statistics(idleCutoff: Date, createdCutoff: Date) async throws -> SessionStatistics
    /// Throws when the store cannot answer (for `/readyz`).
    func checkHealth() async throws
    /// Whether the store's key opens the sessions it holds (`true` when it holds none): `false`
    /// means they were sealed with another key, so no user key of this one can match them.
    func opensStoredSessions() async throws -> Bool
}

extension SessionStore {
    /// A store with no cache in front holds what it reads.
    public func storedSession(for key: SessionKey) async throws -> Session? {
        try await session(for: key)
    }

    /// Stores that keep sessions in the clear (memory) open whatever they hold.
    public func opensStoredSessions() async throws -> Bool { true }
}
