import Foundation

/// Where sessions live: memory, a SQLite file, or a database shared by many gateways.
///
/// Stores are plain keyed storage; the rules (timeouts, rotation, revalidation) live in
/// ``SessionManager`` so every store enforces them the same way. Stores that write to disk seal
/// the token (see ``SessionSealer``) and never see a session id, only its ``SessionKey``.
public protocol SessionStore: Sendable {
    /// Stores a new session.
    func insert(_ session: Session) async throws
    /// The session stored under `key`, if any, expired or not.
    func session(for key: SessionKey) async throws -> Session?
    /// Records that the session was used at `date`. Recorded times never move backwards, so
    /// concurrent writers (or instances) cannot undo each other's later activity.
    func recordActivity(for key: SessionKey, at date: Date) async throws
    /// Records that the provider confirmed the token at `date`, with the profile it returned, or
    /// `nil` when that is the profile the session holds: then only the time is written (nothing
    /// re-sealed). `validatedAt` never moves backwards either.
    func recordValidation(for key: SessionKey, at date: Date, profile: UserProfile?) async throws
    /// Removes a session; removing one that is not there is not an error.
    func delete(_ key: SessionKey) async throws
    /// Removes sessions idle since before `idleCutoff` or created before `createdCutoff`;
    /// returns how many went.
    func deleteExpired(idleCutoff: Date, createdCutoff: Date) async throws -> Int
    /// How many sessions were seen after `idleCutoff` and created after `createdCutoff` (for `/metrics`).
    func countLive(idleCutoff: Date, createdCutoff: Date) async throws -> Int
    /// Throws when the store cannot answer (for `/readyz`).
    func checkHealth() async throws
}
