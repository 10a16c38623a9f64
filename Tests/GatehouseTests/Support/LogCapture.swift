import Logging
import Synchronization

/// Collects every log line (message and metadata, rendered as text) at trace level, so tests
/// can assert that no secret was ever logged.
final class LogCapture: Sendable {
    private struct Waiter {
        let id: Int
        let needle: String
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var lines: [String] = []
        var waiters: [Waiter] = []
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    var allText: String { state.withLock { $0.lines.joined(separator: "\n") } }
    var count: Int { state.withLock { $0.lines.count } }

    /// Whether a line containing `needle` is logged (or was already) within `limit`.
    func waitForLine(containing needle: String, within limit: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.lineLogged(containing: needle) }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Returns `true` once a line containing `needle` is logged, `false` when cancelled first.
    private func lineLogged(containing needle: String) async -> Bool {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let logged = state.withLock { state -> Bool? in
                    if state.lines.contains(where: { $0.contains(needle) }) { return true }
                    if Task.isCancelled { return false }
                    state.waiters.append(Waiter(id: id, needle: needle, continuation: continuation))
                    return nil
                }
                if let logged { continuation.resume(returning: logged) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: false)
        }
    }

    func logger(label: String = "test") -> Logger {
        var logger = Logger(label: label) { label in CapturingHandler(label: label, capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) {
        let satisfied = state.withLock { state -> [Waiter] in
            state.lines.append(line)
            let satisfied = state.waiters.filter { line.contains($0.needle) }
            state.waiters.removeAll { line.contains($0.needle) }
            return satisfied
        }
        for waiter in satisfied { waiter.continuation.resume(returning: true) }
    }
}

private struct CapturingHandler: LogHandler {
    let label: String
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        capture.append("\(event.level) \(label): \(event.message) \(rendered) \(event.source)")
    }
}
