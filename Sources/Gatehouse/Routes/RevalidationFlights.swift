import Foundation

/// Makes the concurrent requests of one session share one revalidation (single flight).
///
/// Requests that read the same stale session (the same `validatedAt`) share one flight: the first
/// starts it, the rest await its outcome, so a burst of requests costs one provider call. The
/// outcome of a finished flight stays for requests that read the session before the flight
/// recorded its result; a flight that failed is forgotten at once, so failures are never reused
/// and the next request tries again. A session validated later starts a new flight.
actor RevalidationFlights {
    typealias Outcome = SessionAuthenticator.Outcome

    private struct Flight {
        /// The `validatedAt` of the session the flight revalidates.
        let generation: Date
        let task: Task<Outcome, any Error>
        var finished = false
    }

    private var flights: [SessionKey: Flight] = [:]
    /// Sessions already refused by the access rules (bounded like the flights).
    private var refused: Set<SessionKey> = []
    /// How many finished flights are kept before they are dropped.
    private let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The outcome of revalidating `session`: joined when a flight for the same generation exists,
    /// else from `revalidate`, which runs once for everyone who asks meanwhile.
    ///
    /// - Parameter joined: called before waiting when the caller shares another caller's flight.
    func outcome(
        for session: Session,
        joined: @Sendable () -> Void = {},
        revalidate: @escaping @Sendable () async throws(GatewayError) -> Outcome
    ) async throws(GatewayError) -> Outcome {
        if let flight = flights[session.key], flight.generation >= session.validatedAt {
            joined()
            return try await Self.value(of: flight.task)
        }
        let task = Task<Outcome, any Error> { try await revalidate() }
        if flights.count >= capacity {
            flights = flights.filter { !$0.value.finished }
        }
        flights[session.key] = Flight(generation: session.validatedAt, task: task)
        let result = await task.result
        if flights[session.key]?.task == task {
            if case .success = result {
                flights[session.key]?.finished = true
            } else {
                flights[session.key] = nil
            }
        }
        return try await Self.value(of: task)
    }

    /// Whether the caller is the first to refuse the session `key`, and so the one to end it.
    func claimRefusal(of key: SessionKey) -> Bool {
        if refused.count >= capacity { refused.removeAll() }
        return refused.insert(key).inserted
    }

    /// Drops what is known about `key` (the session has ended).
    func forget(_ key: SessionKey) {
        flights[key] = nil
    }

    /// How many flights are kept, running or finished.
    var count: Int { flights.count }

    private static func value(of task: Task<Outcome, any Error>) async throws(GatewayError) -> Outcome {
        do {
            return try await task.value
        } catch let error as GatewayError {
            throw error
        } catch {
            throw .provider(.unreachable(reason: "the revalidation was interrupted (\(type(of: error)))"))
        }
    }
}
