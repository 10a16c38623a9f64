import Synchronization

/// Thrown by ``withDeadline(_:operation:)`` when the deadline passes first.
struct DeadlineExceeded: Error {}

/// Runs `operation`, throwing ``DeadlineExceeded`` if it has not finished by `deadline` (and
/// `CancellationError` at once if the caller is cancelled); `operation` is cancelled then.
///
/// The caller is answered at the deadline even when `operation` does not stop on cancellation:
/// a PostgresNIO query waits for its connection whatever its task is told, so a task group,
/// which waits for every child, would hold the caller as long as the query. Such an operation
/// finishes on its own later, and what it returns is dropped.
func withDeadline<Result: Sendable>(
    _ deadline: ContinuousClock.Instant,
    operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    let race = DeadlineRace<Result>()
    let work = Task {
        do {
            race.finish(.success(try await operation()))
        } catch {
            race.finish(.failure(error))
        }
    }
    let timer = Task {
        guard (try? await Task.sleep(until: deadline, clock: .continuous)) != nil else { return }
        race.finish(.failure(DeadlineExceeded()))
    }
    defer {
        timer.cancel()
        work.cancel()
    }
    return try await withTaskCancellationHandler {
        try await race.outcome()
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The first outcome of a ``withDeadline(_:operation:)``: the operation's, the deadline's or the
/// caller's cancellation; later ones are dropped.
private final class DeadlineRace<Value: Sendable>: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Value, any Error>?)
        case finished(Result<Value, any Error>)
        case answered
    }

    private let state = Mutex(State.waiting(nil))

    func finish(_ outcome: Result<Value, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            guard case .waiting(let waiter) = state else { return nil }
            if waiter == nil {
                state = .finished(outcome)
                return nil
            }
            state = .answered
            return waiter
        }
        waiter?.resume(with: outcome)
    }

    func outcome() async throws -> Value {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Value, any Error>) in
            let finished = state.withLock { state -> Result<Value, any Error>? in
                switch state {
                case .finished(let outcome):
                    state = .answered
                    return outcome
                case .waiting:
                    state = .waiting(waiter)
                    return nil
                case .answered:
                    return .failure(CancellationError())  // not reached: one caller waits once
                }
            }
            if let finished { waiter.resume(with: finished) }
        }
    }
}
