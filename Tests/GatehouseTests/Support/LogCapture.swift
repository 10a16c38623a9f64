import Logging
import Synchronization

/// Collects every log line (message and metadata, rendered as text) at trace level, so tests
/// can assert that no secret was ever logged.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var allText: String { lines.withLock { $0.joined(separator: "\n") } }
    var count: Int { lines.withLock { $0.count } }

    func logger(label: String = "test") -> Logger {
        var logger = Logger(label: label) { label in CapturingHandler(label: label, capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) {
        lines.withLock { $0.append(line) }
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
