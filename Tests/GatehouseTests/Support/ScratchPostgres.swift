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
    private let tls = Mutex(false)

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

    /// The CA that signed the server's certificate, when it serves TLS (PEM).
    var certificateAuthority: String { directory.appendingPathComponent("ca.pem").path }

    /// Makes a new cluster and starts it.
    ///
    /// - Parameter tls: also serve TLS, with a certificate for `127.0.0.1` signed by a CA of its
    ///   own (``certificateAuthority``); the server then listens on `127.0.0.2` too, an address the
    ///   certificate does not name.
    static func make(tls: Bool = false) async throws -> ScratchPostgres {
        let binaries = try #require(Self.binaries, "no PostgreSQL programs under /usr/lib/postgresql (Debian's postgresql package)")
        let directory = try TestFixtures.temporaryDirectory()
        if getuid() == 0 {
            let chown = try await GatehouseProcess(["postgres:postgres", directory.path], executable: URL(fileURLWithPath: "/bin/chown")).finished()
            try #require(chown.status == 0, "chown: \(chown.output)")
        }
        let server = ScratchPostgres(port: try LoopbackPort.free(), directory: directory, binaries: binaries)
        try await server.run("initdb", ["-D", server.dataDirectory, "-U", "gatehouse", "--auth=trust", "--no-sync"])
        if tls { try await server.makeCertificates() }
        server.tls.withLock { $0 = tls }
        try await server.start()
        return server
    }

    /// A CA, and a server certificate it signs for IP 127.0.0.1, with openssl; the server's key is
    /// the postgres user's, mode 0600, as PostgreSQL insists.
    private func makeCertificates() async throws {
        let path = directory.path
        let script = """
            set -e
            cd '\(path)'
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=gatehouse-test-ca -keyout ca.key -out ca.pem 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.pem 2>/dev/null
            chmod 600 server.key
            if [ "$(id -u)" = 0 ]; then chown postgres:postgres server.key server.pem; fi
            """
        let shell = try GatehouseProcess(["-c", script], executable: URL(fileURLWithPath: "/bin/sh"))
        let result = await shell.finished(within: .seconds(60))
        try #require(result.status == 0, "making certificates failed: \(result.output)")
    }

    private var dataDirectory: String { directory.appendingPathComponent("data").path }

    /// Starts the server and waits until it accepts connections. It runs as a child of the test
    /// (through `runuser` as root), so its log is the child's output.
    func start() async throws {
        let postgres = binaries.appendingPathComponent("postgres").path
        var arguments = [postgres, "-D", dataDirectory, "-p", "\(port)", "-k", directory.path, "-c", "fsync=off"]
        if tls.withLock({ $0 }) {
            arguments += [
                "-c", "listen_addresses=127.0.0.1,127.0.0.2", "-c", "ssl=on",
                "-c", "ssl_cert_file=\(directory.appendingPathComponent("server.pem").path)",
                "-c", "ssl_key_file=\(directory.appendingPathComponent("server.key").path)",
            ]
        } else {
            arguments += ["-c", "listen_addresses=127.0.0.1"]
        }
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
