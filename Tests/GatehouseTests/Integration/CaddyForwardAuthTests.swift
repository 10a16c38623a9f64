import Foundation
import HummingbirdTesting
import NIOHTTP1
import Testing

@testable import Gatehouse

/// A real Caddy in front of an upstream and the gateway, its site importing the repository's own
/// snippet (`Deploy/caddy/gatehouse.caddy`).
///
/// Needs Debian's caddy: without it the suite is skipped with that reason, unless
/// `GATEHOUSE_REQUIRE_CADDY=1` (set by CI), where it fails instead.
@Suite("Caddy forward auth", .timeLimit(.minutes(1)), .enabled(if: Caddy.enabled, Caddy.skipReason))
struct CaddyForwardAuthTests {
    static var access: GatehouseConfiguration.Access {
        var access = GatehouseConfiguration.Access()
        access.policy = AccessPolicy(routes: [
            .init(pathPrefix: "/public/", requirement: .public),
            .init(pathPrefix: "/admin/", requirement: .rules(AccessRule(allowGroups: ["admins"]))),
        ])
        return access
    }

    @Test("anonymous → login and back; the app gets the session's identity, never the client's; public and group prefixes; logout")
    func protectsAnUpstream() async throws {
        try await LiveStack().run(access: Self.access) { stack in
            let caddy = try await Caddy.start(gatewayPort: try #require(stack.gateway.port))
            do {
                try await check(caddy: caddy, directory: stack.directory)
            } catch {
                await caddy.stop()
                throw error
            }
            await caddy.stop()
        }
    }

    func check(caddy: Caddy, directory: MockDirectory) async throws {
        let http = GatewayHTTPClient()
        let base = caddy.baseURL
        func body(_ answer: GatewayHTTPClient.Answer) -> String { String(decoding: answer.body, as: UTF8.self) }

        let anonymous = try await http.send(.GET, "\(base)/reports/q3.html", accept: "text/html")
        #expect(anonymous.status == 302)
        #expect(anonymous.headers.first(name: "Location") == "/login?next=/reports/q3.html")
        let open = try await http.send(.GET, "\(base)/public/page")
        #expect(open.status == 200)
        #expect(body(open) == "upstream /public/page ||||", "a public page gets no identity")
        let spoofed = try await http.send(
            .GET,
            "\(base)/admin/page",
            headers: ["X-Original-URI": "/public/page", "X-Forwarded-Uri": "/public/page", "X-Auth-Request-User": TestFixtures.adaID]
        )
        #expect(spoofed.status == 302, "neither a client's X-Original-URI nor its X-Forwarded-Uri opens a prefix")
        #expect(try await http.send(.GET, "\(base)/public/../admin/page").status == 302)

        // The login goes through Caddy to the gateway and back.
        let (grace, _) = try await http.logIn(at: base, directory: directory, as: TestFixtures.graceID)
        let page = try await http.send(
            .GET,
            "\(base)/reports/q3.html",
            cookies: ["gatehouse_session": grace],
            headers: ["X-Auth-Request-User": TestFixtures.adaID, "X-Auth-Request-Groups": "admins"]
        )
        #expect(page.status == 200)
        #expect(body(page) == "upstream /reports/q3.html |\(TestFixtures.graceID)|grace@example.com|staff|gracehopper")
        #expect(try await http.send(.GET, "\(base)/admin/page", cookies: ["gatehouse_session": grace]).status == 403)

        let (ada, _) = try await http.logIn(at: base, directory: directory)
        let admin = try await http.send(.GET, "\(base)/admin/page", cookies: ["gatehouse_session": ada])
        #expect(admin.status == 200)
        #expect(body(admin) == "upstream /admin/page |\(TestFixtures.adaID)|ada@example.com|admins,staff|adalovelace")

        #expect(try await http.send(.POST, "\(base)/logout", cookies: ["gatehouse_session": ada]).status == 200)
        #expect(try await http.send(.GET, "\(base)/admin/page", cookies: ["gatehouse_session": ada]).status == 302)
        try await http.shutdown()
    }
}

/// Caddy run for one test, from a Caddyfile written into a temporary directory.
struct Caddy {
    static let binary = ["/usr/bin/caddy", "/usr/local/bin/caddy"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let required = ProcessInfo.processInfo.environment["GATEHOUSE_REQUIRE_CADDY"] == "1"
    static let skipReason: Comment = "install caddy (apt-get install -y caddy) to run the Caddy forward-auth suite"
    static var enabled: Bool { binary != nil || required }

    let process: GatehouseProcess
    let directory: URL
    let baseURL: String

    /// Starts Caddy on two free loopback ports: the protected site, and an upstream behind it that
    /// answers with the path and the identity headers it was given.
    static func start(gatewayPort: Int) async throws -> Caddy {
        let binary = try #require(Self.binary, "GATEHOUSE_REQUIRE_CADDY=1 but caddy is not installed")
        let directory = try TestFixtures.temporaryDirectory()
        let site = try LoopbackPort.free()
        let upstream = try LoopbackPort.free()
        let snippet = GatehouseProcess.repositoryRoot.appendingPathComponent("Deploy/caddy/gatehouse.caddy").path
        let caddyfile = """
            {
                admin off
                auto_https off
            }
            http://127.0.0.1:\(site) {
                import \(snippet)
            }
            http://127.0.0.1:\(upstream) {
                respond "upstream {path} |{header.X-Auth-Request-User}|{header.X-Auth-Request-Email}|{header.X-Auth-Request-Groups}|{header.X-Auth-Request-Preferred-Username}"
            }
            """
        let file = directory.appendingPathComponent("Caddyfile")
        try Data(caddyfile.utf8).write(to: file)
        let process = try GatehouseProcess(
            ["run", "--config", file.path, "--adapter", "caddyfile"],
            environment: [
                "GATEHOUSE_UPSTREAM": "127.0.0.1:\(gatewayPort)",
                "APP_UPSTREAM": "127.0.0.1:\(upstream)",
                "XDG_DATA_HOME": directory.path,
                "XDG_CONFIG_HOME": directory.path,
                "HOME": directory.path,
            ],
            directory: directory,
            executable: URL(fileURLWithPath: binary)
        )
        _ = try await process.waitFor("serving initial configuration")
        return Caddy(process: process, directory: directory, baseURL: "http://127.0.0.1:\(site)")
    }

    func stop() async {
        _ = await process.stop(signal: SIGTERM)
        try? FileManager.default.removeItem(at: directory)
    }
}
