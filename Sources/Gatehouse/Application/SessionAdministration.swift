import Foundation
import Logging
import ServiceLifecycle

/// The session store a configuration names, opened beside the gateways that serve it, for
/// `gatehouse sessions revoke` and `stats`.
///
/// SQLite (WAL mode) and PostgreSQL take a second writer while gateways run. A gateway on the
/// SQLite file sees the write at its next request (``SQLiteWriteWatch``); gateways on PostgreSQL
/// within milliseconds (``PostgresSessionChanges``). The
/// memory store lives inside one gateway's process and cannot be reached from another.
public enum SessionAdministration {
    /// Why the store cannot be administered from outside.
    public struct Unreachable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Opens the store, runs `body` with it, and closes it again.
    public static func withSessions<Result: Sendable>(
        _ configuration: GatehouseConfiguration,
        logger: Logger,
        _ body: @escaping @Sendable (SessionManager) async throws -> Result
    ) async throws -> Result {
        guard configuration.sessions.store != .memory else {
            throw Unreachable(
                description: "sessions.store is memory: its sessions live inside the serving gateway; use sqlite or postgres to manage them from here"
            )
        }
        let parts = try await StoreParts.open(configuration.sessions, existing: true, logger: logger)
        let sessions = SessionManager(store: parts.store, configuration: configuration.sessions.lifetime, now: parts.clock ?? Date.init)
        // The store's services run in a group of their own, shut down gracefully (and in order) after `body`.
        let group = ServiceGroup(services: parts.services, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                for preparation in parts.preparations {
                    try await preparation()
                }
                guard try await sessions.store.opensStoredSessions() else {
                    throw Unreachable(
                        description: "the session key does not open the sessions in this store: give the gateway's sessions.encryptionKey (or sessions.keyFile)"
                    )
                }
                let result = try await body(sessions)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}
