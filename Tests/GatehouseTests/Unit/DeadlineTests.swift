import Synchronization
import Testing

@testable import Gatehouse

@Suite("Deadlines", .timeLimit(.minutes(1)))
struct DeadlineTests {
    /// An operation that does not stop when cancelled, as a PostgresNIO query waiting on a
    /// connection does not: it returns only once ``release()`` is called.
    final class Unstoppable: Sendable {
        private let waiter = Mutex<(released: Bool, continuation: CheckedContinuation<Void, Never>?)>((false, nil))

        func run() async -> String {
            await withCheckedContinuation { continuation in
                let released = waiter.withLock { state -> Bool in
                    if !state.released { state.continuation = continuation }
                    return state.released
                }
                if released { continuation.resume() }
            }
            return "finished"
        }

        func release() {
            waiter.withLock { state in
                state.released = true
                defer { state.continuation = nil }
                return state.continuation
            }?.resume()
        }
    }

    @Test("an operation that ignores cancellation is given up at the deadline, not when it ends")
    func unstoppableOperation() async throws {
        let operation = Unstoppable()
        // Released long after the deadline: a deadline that waited for it would answer only then.
        let release = Task {
            try? await Task.sleep(for: .seconds(5))
            operation.release()
        }
        defer {
            release.cancel()
            operation.release()
        }
        let clock = ContinuousClock()
        let started = clock.now
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.now + .milliseconds(100)) { await operation.run() }
        }
        let waited = clock.now - started
        #expect(waited < .seconds(4), "answered at the deadline, after \(waited)")
    }

    @Test("an operation that finishes first gives its value or its error; a cancelled caller is answered at once")
    func outcomes() async throws {
        #expect(try await withDeadline(.now + .seconds(10)) { 42 } == 42)
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await withDeadline(.now + .seconds(10)) { () async throws -> Int in throw Refused() }
        }
        let operation = Unstoppable()
        defer { operation.release() }
        let caller = Task { try await withDeadline(.now + .seconds(30)) { await operation.run() } }
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
    }
}
