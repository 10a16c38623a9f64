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

    private let child: SpawnedChild
    private let command: String
    private let output = Output()
    private let lines: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let exit = ExitRecord()

    /// - Parameter executable: another program to run instead of `gatehouse` (nginx, for instance).
    init(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil, executable: URL? = nil) throws {
        (lines, continuation) = AsyncStream.makeStream(of: String.self)
        let program = try executable ?? Self.executable
        command = ([program.lastPathComponent] + arguments).joined(separator: " ")
        child = try SpawnedChild.start(
            executable: program.path,
            arguments: arguments,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            directory: (directory ?? Self.repositoryRoot).path
        )
        let outputRead = DispatchSemaphore(value: 0)
        Self.read(child.output, into: output, continuation, then: outputRead)
        let (child, exit) = (self.child, self.exit)
        Thread {
            let status = child.waitForExit()
            // What it printed before it ended is read before the end is told, as Process did; at most
            // 5 s, so that a descendant holding the pipe open cannot hold the exit back.
            _ = outputRead.wait(timeout: .now() + 5)
            exit.record(status)
        }.start()
    }

    /// Reads `descriptor` to its end on a thread of its own, with plain `read(2)`, then closes it:
    /// Foundation's `readabilityHandler` has crashed in `availableData` when many pipes were read
    /// at once (swiftlang/swift-corelibs-foundation#3276).
    private static func read(
        _ descriptor: Int32,
        into output: Output,
        _ continuation: AsyncStream<String>.Continuation,
        then done: DispatchSemaphore
    ) {
        Thread {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                let text = String(decoding: buffer[..<count], as: UTF8.self)
                output.text.withLock { $0 += text }
                continuation.yield(text)
            }
            close(descriptor)
            continuation.finish()
            done.signal()
        }.start()
    }

    /// The child's process id.
    var pid: Int32 { child.pid }

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

    /// Sends a signal (SIGTERM by default) and waits up to `limit` for the exit status.
    func stop(signal: Int32 = SIGTERM, within limit: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation) async -> Int32 {
        kill(child.pid, signal)
        return await exitStatus(within: limit, sourceLocation: sourceLocation)
    }

    /// Waits up to `limit` for the process to end and returns its exit status.
    ///
    /// A process still running then has hung: it is sent SIGQUIT, on which Swift's backtracer
    /// prints every thread into the output, then killed, and the wait records an issue with all it
    /// printed and returns -1. A hang fails its test with a reason instead of running out the clock.
    func exitStatus(
        within limit: Duration = .seconds(90),
        backtraceTime: Duration = .seconds(30),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async -> Int32 {
        if let status = await exit.status(within: limit) { return status }
        kill(child.pid, SIGQUIT)
        if await exit.status(within: backtraceTime) == nil {
            kill(child.pid, SIGKILL)
            _ = await exit.status(within: .seconds(5))
        }
        Issue.record("`\(command)` was still running after \(limit); it printed:\n\(printed)", sourceLocation: sourceLocation)
        return -1
    }

    /// Waits for the process to end, then for its output to be read to the end.
    ///
    /// The end of the output is awaited for at most `drain` after the exit, so that a pipe held
    /// open by some other descendant cannot hang the test; what the process wrote before it
    /// exited is in the pipe by then.
    func finished(within limit: Duration = .seconds(90), drain: Duration = .seconds(5), sourceLocation: SourceLocation = #_sourceLocation) async -> (
        status: Int32, output: String
    ) {
        let status = await exitStatus(within: limit, sourceLocation: sourceLocation)
        let lines = self.lines
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in lines {} }
            group.addTask { try? await Task.sleep(for: drain) }
            await group.next()
            group.cancelAll()
        }
        return (status, printed)
    }

    /// Runs `gatehouse` with `arguments` to its end.
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (status: Int32, output: String) {
        try await GatehouseProcess(arguments, environment: environment).finished(sourceLocation: sourceLocation)
    }

    /// The exit status, once the process has ended, for any number of waiters with deadlines.
    final class ExitRecord: Sendable {
        private struct State {
            var status: Int32?
            var waiters: [UInt64: CheckedContinuation<Int32?, Never>] = [:]
            var nextWaiter: UInt64 = 0
        }
        private let state = Mutex(State())

        var hasEnded: Bool { state.withLock { $0.status != nil } }

        func record(_ status: Int32) {
            let waiters = state.withLock { state in
                state.status = status
                defer { state.waiters = [:] }
                return state.waiters.values
            }
            for waiter in waiters { waiter.resume(returning: status) }
        }

        /// The status, or nil when the process is still running after `limit`.
        func status(within limit: Duration) async -> Int32? {
            await withTaskGroup(of: Int32?.self) { group in
                group.addTask { await self.wait() }
                group.addTask {
                    try? await Task.sleep(for: limit)
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first ?? state.withLock { $0.status }
            }
        }

        /// The status once the process ends; nil if the waiting task is cancelled first.
        private func wait() async -> Int32? {
            let id = state.withLock { state in
                defer { state.nextWaiter += 1 }
                return state.nextWaiter
            }
            return await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
                    state.withLock { state in
                        if let status = state.status {
                            continuation.resume(returning: status)
                        } else if Task.isCancelled {
                            continuation.resume(returning: nil)
                        } else {
                            state.waiters[id] = continuation
                        }
                    }
                }
            } onCancel: {
                state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: nil)
            }
        }
    }

    struct ProcessFailure: Error, CustomStringConvertible {
        let description: String
    }

    deinit {
        if !exit.hasEnded { kill(child.pid, SIGTERM) }
    }
}
