import Foundation
import Synchronization
import Testing

/// A PostgreSQL server of a test's own, in a temporary directory, that the test may stop and start
/// while gateways use it. Made with the machine's `initdb` and `postgres` (Debian's
/// `/usr/lib/postgresql/N/bin`), run as the `postgres` user when the tests run as root.
final class ScratchPostgres: Sendable {
    let port: Int
    let directory: URL
    private let binaries: URL
    private let server = Mutex<GatehouseProcess?>(nil)

    /// The newest PostgreSQL's programs on this machine, if any.
    static var binaries: URL? {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return versions.compactMap(Int.init).sorted().reversed().lazy
            .map { root.appendingPathComponent("\($0)/bin") }
            .first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("pg_ctl").path) }
    }

    /// A URL for the server's superuser `gatehouse` (trust authentication, loopback only).
    var url: String { "postgres://gatehouse@127.0.0.1:\(port)/postgres?sslmode=disable" }

    private init(port: Int, directory: URL, binaries: URL) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
    }

    /// Makes a new cluster and starts it.
    static func make() async throws -> ScratchPostgres {
        let binaries = try #require(Self.binaries, "no PostgreSQL programs under /usr/lib/postgresql (Debian's postgresql package)")
        let directory = try TestFixtures.temporaryDirectory()
        if getuid() == 0 {
            let chown = try await GatehouseProcess(["postgres:postgres", directory.path], executable: URL(fileURLWithPath: "/bin/chown")).finished()
            try #require(chown.status == 0, "chown: \(chown.output)")
        }
        let server = ScratchPostgres(port: try LoopbackPort.free(), directory: directory, binaries: binaries)
        try await server.run("initdb", ["-D", server.dataDirectory, "-U", "gatehouse", "--auth=trust", "--no-sync"])
        try await server.start()
        return server
    }

    private var dataDirectory: String { directory.appendingPathComponent("data").path }

    /// Starts the server and waits until it accepts connections. It runs as a child of the test
    /// (through `runuser` as root), so its log is the child's output.
    func start() async throws {
        let postgres = binaries.appendingPathComponent("postgres").path
        let arguments = [
            postgres, "-D", dataDirectory, "-p", "\(port)", "-k", directory.path, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
        ]
        let process =
            getuid() == 0
            ? try GatehouseProcess(["-u", "postgres", "--"] + arguments, executable: URL(fileURLWithPath: "/usr/sbin/runuser"))
            : try GatehouseProcess(Array(arguments.dropFirst()), executable: URL(fileURLWithPath: postgres))
        server.withLock { $0 = process }
        _ = try await process.waitFor("ready to accept connections", within: .seconds(30))
    }

    /// Stops the server: SIGINT is PostgreSQL's fast shutdown, which ends every connection at once,
    /// as an operator's restart does; SIGQUIT its immediate one, as a crash.
    func stop(signal: Int32 = SIGINT) async throws {
        guard let process = server.withLock({ $0 }) else { return }
        let pidFile = try String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8)
        let pid = try #require(pidFile.split(separator: "\n").first.flatMap { Int32($0) }, "no pid in postmaster.pid")
        kill(pid, signal)
        _ = await process.exitStatus(within: .seconds(30))
        server.withLock { $0 = nil }
    }

    /// Stops the server if it runs and removes its files.
    func destroy() async {
        try? await stop(signal: SIGQUIT)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs one of the server's programs to its end. Through a shell, with no descriptor of ours:
    /// the server `pg_ctl` starts outlives it and must not hold the test's pipe or wait on its input.
    private func run(_ program: String, _ arguments: [String]) async throws {
        let output = directory.appendingPathComponent("\(program).out").path
        let command = ([binaries.appendingPathComponent(program).path] + arguments).map(Self.quoted).joined(separator: " ")
        let asUser = getuid() == 0 ? "/usr/sbin/runuser -u postgres -- " : ""
        let shell = try GatehouseProcess(
            ["-c", "exec \(asUser)\(command) < /dev/null > \(Self.quoted(output)) 2>&1"],
            executable: URL(fileURLWithPath: "/bin/sh")
        )
        let status = await shell.exitStatus(within: .seconds(60))
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        try #require(status == 0, "\(program) failed: \(printed)")
    }

    private static func quoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
