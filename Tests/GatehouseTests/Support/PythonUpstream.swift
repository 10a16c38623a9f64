import Foundation
import Testing

/// `Tests/Upstream/upstream.py` (Python's http.server) run as a child process: the non-Swift app
/// the proxy tests put behind the gateway.
struct PythonUpstream {
    let process: GatehouseProcess
    /// `http://127.0.0.1:PORT`, or `unix:PATH` when it listens on a socket.
    let url: String

    static var python: URL {
        get throws {
            try #require(
                ["/usr/bin/python3", "/usr/local/bin/python3"].map(URL.init(fileURLWithPath:)).first { FileManager.default.isExecutableFile(atPath: $0.path) },
                "python3 is needed for the proxy suites"
            )
        }
    }

    /// Starts the app on a free loopback port, or on the Unix socket `socketPath`; at the lowest
    /// CPU priority when `niced` (it then yields to the timed suites running beside it).
    static func start(socketPath: String? = nil, niced: Bool = false) async throws -> PythonUpstream {
        let script = GatehouseProcess.repositoryRoot.appendingPathComponent("Tests/Upstream/upstream.py").path
        let arguments = [script] + (socketPath.map { ["--unix", $0] } ?? [])
        let process =
            niced
            ? try GatehouseProcess(["-n", "19", try python.path] + arguments, executable: URL(fileURLWithPath: "/usr/bin/nice"))
            : try GatehouseProcess(arguments, executable: try python)
        let place = try await process.waitFor(#"listening on (\S+)"#, within: .seconds(30))
        return PythonUpstream(process: process, url: socketPath == nil ? "http://127.0.0.1:\(place)" : "unix:\(place)")
    }

    /// Runs `body` with the app started (on `socketPath` when given), and stops it after.
    static func run(socketPath: String? = nil, niced: Bool = false, _ body: (PythonUpstream) async throws -> Void) async throws {
        let upstream = try await start(socketPath: socketPath, niced: niced)
        do {
            try await body(upstream)
        } catch {
            _ = await upstream.process.stop(signal: SIGKILL)
            throw error
        }
        _ = await upstream.process.stop(signal: SIGKILL)
    }
}
