import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes each log record as one line to a file descriptor, in swift-log's `StreamLogHandler`
/// format: `2026-11-22T22:05:01+0000 info gatehouse: key=value ... [Source] message`.
///
/// Gatehouse logs a line per request, so the line's cost is paid on every request. This handler
/// formats the timestamp once per second rather than calling `localtime` and `strftime` per line,
/// builds the line in one string, and hands it to the kernel in one `write` call under a
/// process-wide lock: lines are never split or interleaved, even through a pipe, and none waits
/// in a buffer.
public struct LineLogHandler: LogHandler {
    /// The least severe level logged, shared by every handler made with the same ``level``, so a
    /// reload of the configuration changes it for every logger at once.
    public var logLevel: Logger.Level {
        get { level.value }
        nonmutating set { level.set(newValue) }
    }

    public var metadataProvider: Logger.MetadataProvider?
    public var metadata: Logger.Metadata = [:]

    private let label: String
    private let fileDescriptor: Int32
    private let level: Reloadable<Logger.Level>

    /// - Parameters:
    ///   - fileDescriptor: where lines go; standard error (2) by default. Never closed here.
    ///   - level: the level this handler shares with others; by default one of its own, at `info`.
    public init(
        label: String,
        fileDescriptor: Int32 = 2,
        level: Reloadable<Logger.Level> = .init(.info),
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    ) {
        self.label = label
        self.fileDescriptor = fileDescriptor
        self.level = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // The fields in key order, later sources winning: the handler's, the provider's, the event's, the error.
        var fields: [(key: String, rank: Int, value: Logger.MetadataValue)] = []
        fields.reserveCapacity(metadata.count + (event.metadata?.count ?? 0) + 2)
        for (key, value) in metadata { fields.append((key, 0, value)) }
        if let provided = metadataProvider?.get() {
            for (key, value) in provided { fields.append((key, 1, value)) }
        }
        if let explicit = event.metadata {
            for (key, value) in explicit { fields.append((key, 2, value)) }
        }
        if let error = event.error {
            fields.append(("error.message", 3, "\(error)"))
            fields.append(("error.type", 3, "\(String(reflecting: type(of: error)))"))
        }
        fields.sort { $0.key != $1.key ? $0.key < $1.key : $0.rank < $1.rank }
        var line = ""
        line.reserveCapacity(256)
        line += Self.clock.timestamp()
        line += " "
        line += event.level.rawValue
        if !label.isEmpty {
            line += " "
            line += label
        }
        line += ":"
        for (index, field) in fields.enumerated() where index + 1 == fields.count || fields[index + 1].key != field.key {
            line += " "
            line += field.key
            line += "="
            Self.appendValue(field.value, to: &line)
        }
        line += " ["
        line += event.source
        line += "] "
        Self.appendEscaped(event.message.description, to: &line)
        line += "\n"
        write(line)
    }

    /// A metadata value: a plain string as it is, anything else by its description.
    static func appendValue(_ value: Logger.MetadataValue, to line: inout String) {
        if case .string(let text) = value {
            appendValue(text, to: &line)
        } else {
            appendValue(value.description, to: &line)
        }
    }

    /// A metadata value as logfmt writes one: bare when it is a plain word, else quoted with `"`
    /// and `\` escaped, so a value from outside (a provider's message, a user agent) cannot end
    /// the line or pass for another field.
    static func appendValue(_ value: String, to line: inout String) {
        let plain = !value.isEmpty && value.utf8.allSatisfy { $0 > 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=") }
        guard !plain else {
            line += value
            return
        }
        line += "\""
        appendEscaped(value, to: &line, quoting: true)
        line += "\""
    }

    /// `text` with control characters written as escapes (`\n`, `\u{1B}`), so it stays on its line.
    static func appendEscaped(_ text: String, to line: inout String, quoting: Bool = false) {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && !(quoting && ($0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\"))) }) {
            line += text  // the usual case: nothing to escape
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case "\"" where quoting: line += "\\\""
            case "\\" where quoting: line += "\\\\"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}":
                line += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: line.unicodeScalars.append(scalar)
            }
        }
    }

    private func write(_ line: String) {
        var line = line
        // One writer at a time: a pipe keeps only writes of up to PIPE_BUF bytes whole.
        Self.writing.withLock { _ in
            line.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Self.systemWrite(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if !(written < 0 && errno == EINTR) {
                        return  // a closed or full destination drops the line; the server goes on
                    }
                }
            }
        }
    }

    private static let writing = Mutex(())

    private static func systemWrite(_ descriptor: Int32, _ pointer: UnsafePointer<UInt8>, _ count: Int) -> Int {
        #if canImport(Glibc)
            Glibc.write(descriptor, pointer, count)
        #else
            Darwin.write(descriptor, pointer, count)
        #endif
    }

    private static let clock = SecondClock()
}

/// The local time as `%Y-%m-%dT%H:%M:%S%z`, formatted once per second and shared by all threads.
private final class SecondClock: Sendable {
    private let last = Mutex<(second: Int, text: String)>((-1, ""))

    func timestamp() -> String {
        let now = time(nil)
        if let text = last.withLock({ $0.second == now ? $0.text : nil }) {
            return text
        }
        var seconds = now
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        let text = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        last.withLock { $0 = (now, text) }
        return text
    }
}
