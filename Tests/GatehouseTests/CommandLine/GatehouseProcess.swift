import Foundation
import Synchronization
import Testing

/// The built `gatehouse` binary run as a child process, with its output collected as it comes.
///
/// `@unchecked Sendable`: `Process` is only touched here to start it, signal it and read its
/// identifier, which Foundation allows from any thread; output and exit go through streams.
final class GatehouseProcess: @unchecked Sendable {
    /// The `gatehouse` executable next to the test bundle (both are products of the same build).
    static var executable: URL {
        get throws {
            let candidates = [
                URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().deletingLastPathComponent(),
                URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/debug"),
            ].map { $0.appendingPathComponent("gatehouse") }
            return try #require(
                candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
                "gatehouse binary not found near \(CommandLine.arguments[0])"
            )
        }
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Text collected from the child's output.
    final class Output: Sendable {
        let text = Mutex("")
    }

    private let process = Process()
    private let output = Output()
    private let lines: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let exits: AsyncStream<Int32>

    /// - Parameter executable: another program to run instead of `gatehouse` (nginx, for instance).
    init(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil, executable: URL? = nil) throws {
        (lines, continuation) = AsyncStream.makeStream(of: String.self)
        let (exits, exitContinuation) = AsyncStream.makeStream(of: Int32.self)
        self.exits = exits
        process.terminationHandler = { process in
            exitContinuation.yield(process.terminationStatus)
            exitContinuation.finish()
        }
        process.executableURL = try executable ?? Self.executable
        process.arguments = arguments
        process.currentDirectoryURL = directory ?? Self.repositoryRoot
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let continuation = self.continuation
        let output = self.output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
            let text = String(decoding: data, as: UTF8.self)
            output.text.withLock { $0 += text }
            continuation.yield(text)
        }
        try process.run()
    }

    /// The child's process id.
    var pid: Int32 { process.processIdentifier }

    /// Everything printed so far (standard output and error).
    var printed: String { output.text.withLock { $0 } }

    /// Waits until the output matches `pattern` (a regular expression) and returns the first capture group.
    func waitFor(_ pattern: String, within limit: Duration = .seconds(60)) async throws -> String {
        _ = try Regex(pattern)  // fail early on a bad pattern
        let lines = self.lines
        let output = self.output
        return try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                let regex = try Regex(pattern)
                func found() -> String? {
                    let text = output.text.withLock { $0 }
                    guard let match = try? regex.firstMatch(in: text) else { return nil }
                    return match.output.count > 1 ? match.output[1].substring.map(String.init) ?? "" : ""
                }
                // What arrived before this wait may match already; then each new piece of output.
                if let match = found() { return match }
                for await _ in lines {
                    if let match = found() { return match }
                }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let found = try await group.next() ?? nil else {
                throw ProcessFailure(description: "no output matching \(pattern) within \(limit); printed:\n\(printed)")
            }
            return found
        }
    }

    /// Sends a signal (SIGTERM by default) and waits for the exit status.
    func stop(signal: Int32 = SIGTERM) async -> Int32 {
        kill(process.processIdentifier, signal)
        return await exitStatus()
    }

    /// Waits for the process to end and returns its exit status.
    func exitStatus() async -> Int32 {
        for await status in exits { return status }
        return process.terminationStatus
    }

    /// Waits for the process to end and its output to be read to the end.
    func finished() async -> (status: Int32, output: String) {
        for await _ in lines {}
        return (await exitStatus(), printed)
    }

    /// Runs `gatehouse` with `arguments` to its end.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        try await GatehouseProcess(arguments, environment: environment).finished()
    }

    struct ProcessFailure: Error, CustomStringConvertible {
        let description: String
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}
