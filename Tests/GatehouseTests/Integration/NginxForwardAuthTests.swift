import Foundation
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import Gatehouse

/// A real nginx in front of a static upstream and the gateway, configured with the repository's
/// own snippet (`Deploy/nginx/gatehouse-locations.conf`).
///
/// Needs Debian's nginx: without it the suite is skipped with that reason, unless
/// `GATEHOUSE_REQUIRE_NGINX=1` (set by CI), where it fails instead.
@Suite("nginx forward auth", .timeLimit(.minutes(1)), .enabled(if: Nginx.enabled, Nginx.skipReason))
struct NginxForwardAuthTests {
    @Test("anonymous → login; logged in → upstream content with the user's headers; logged out → login again; spoofed headers change nothing")
    func protectsAnUpstream() async throws {
        try await LiveStack().run { stack in
            let nginx = try await Nginx.start(gatewayPort: try #require(stack.gateway.port))
            do {
                try await checkProtection(nginx: nginx, directory: stack.directory)
            } catch {
                await nginx.stop()
                throw error
            }
            await nginx.stop()
        }
    }

    @Test(
        "access rules through nginx: a public prefix opens without login, a group prefix refuses others (403), a location's own rules, the groups reach the app"
    )
    func appliesRoutePolicies() async throws {
        var access = GatehouseConfiguration.Access()
        access.policy = AccessPolicy(routes: [
            .init(pathPrefix: "/public/", requirement: .public),
            .init(pathPrefix: "/admin/", requirement: .rules(AccessRule(allowGroups: ["admins"]))),
        ])
        try await LiveStack().run(access: access) { stack in
            let nginx = try await Nginx.start(gatewayPort: try #require(stack.gateway.port))
            do {
                try await checkPolicies(nginx: nginx, directory: stack.directory)
            } catch {
                await nginx.stop()
                throw error
            }
            await nginx.stop()
        }
    }

    func checkPolicies(nginx: Nginx, directory: MockDirectory) async throws {
        let http = GatewayHTTPClient()
        let base = nginx.baseURL
        func body(_ answer: GatewayHTTPClient.Answer) -> String { String(decoding: answer.body, as: UTF8.self) }

        let open = try await http.send(.GET, "\(base)/public/index.html", accept: "text/html")
        #expect(open.status == 200)
        #expect(body(open).contains("upstream public/index.html"))
        let closed = try await http.send(.GET, "\(base)/public/../admin/index.html", accept: "text/html")
        #expect(closed.status == 302, "nginx's raw $request_uri is normalized before matching")
        let spoofed = try await http.send(.GET, "\(base)/admin/index.html", headers: ["X-Forwarded-Uri": "/public/index.html"])
        #expect(spoofed.status == 302, "a client's X-Forwarded-Uri never opens a prefix")

        let (grace, _) = try await http.logIn(at: base, directory: directory, as: TestFixtures.graceID)
        #expect(try await http.send(.GET, "\(base)/admin/index.html", cookies: ["gatehouse_session": grace]).status == 403)
        #expect(try await http.send(.GET, "\(base)/ops/index.html", cookies: ["gatehouse_session": grace]).status == 403)
        let whoami = try await http.send(.GET, "\(base)/whoami/all", cookies: ["gatehouse_session": grace], headers: ["X-Auth-Request-Groups": "admins"])
        #expect(body(whoami) == "\(TestFixtures.graceID)|grace@example.com|staff|gracehopper", "the app sees the session's groups, not the client's")

        let (ada, _) = try await http.logIn(at: base, directory: directory)
        let admin = try await http.send(.GET, "\(base)/admin/index.html", cookies: ["gatehouse_session": ada])
        #expect(admin.status == 200)
        #expect(body(admin).contains("upstream admin/index.html"))
        #expect(try await http.send(.GET, "\(base)/ops/index.html", cookies: ["gatehouse_session": ada]).status == 200)
        #expect(body(try await http.send(.GET, "\(base)/whoami/all", cookies: ["gatehouse_session": ada])).contains("|admins,staff|adalovelace"))
        try await http.shutdown()
    }

    func checkProtection(nginx: Nginx, directory: MockDirectory) async throws {
        let http = GatewayHTTPClient()
        let base = nginx.baseURL

        let anonymous = try await http.send(.GET, "\(base)/reports/q3.html", accept: "text/html")
        #expect(anonymous.status == 302)
        #expect(anonymous.headers.first(name: "Location") == "\(base)/login?next=/reports/q3.html")

        // Headers that claim a proxy already vouched for the client, or point elsewhere.
        let spoofed = try await http.send(
            .GET,
            "\(base)/reports/q3.html",
            headers: ["X-Auth-Request-User": TestFixtures.adaID, "X-Original-URI": "/login", "X-Forwarded-Uri": "/login", "X-Forwarded-User": "ada"]
        )
        #expect(spoofed.status == 302)

        let (session, _) = try await http.logIn(at: base, directory: directory)
        let page = try await http.send(.GET, "\(base)/reports/q3.html", cookies: ["gatehouse_session": session])
        #expect(page.status == 200)
        #expect(String(decoding: page.body, as: UTF8.self).contains("Q3 upstream report"))

        let whoami = try await http.send(
            .GET,
            "\(base)/whoami",
            cookies: ["gatehouse_session": session],
            headers: ["X-Auth-Request-User": TestFixtures.graceID, "X-Auth-Request-Email": "grace@example.com"]
        )
        #expect(
            String(decoding: whoami.body, as: UTF8.self) == "\(TestFixtures.adaID) ada@example.com",
            "the app sees the session's user, not the client's claim"
        )

        let logout = try await http.send(.POST, "\(base)/logout", cookies: ["gatehouse_session": session])
        #expect(logout.status == 200)
        let after = try await http.send(.GET, "\(base)/reports/q3.html", cookies: ["gatehouse_session": session])
        #expect(after.status == 302)
        #expect(after.headers.first(name: "Location") == "\(base)/login?next=/reports/q3.html")
        try await http.shutdown()
    }
}

/// nginx run for one test, from a configuration written into a temporary directory.
struct Nginx {
    static let binary = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let required = ProcessInfo.processInfo.environment["GATEHOUSE_REQUIRE_NGINX"] == "1"
    static let skipReason: Comment = "install nginx (apt-get install -y nginx) to run the nginx forward-auth suite"
    static var enabled: Bool { binary != nil || required }

    let process: GatehouseProcess
    let directory: URL
    let baseURL: String

    /// Starts nginx on two free loopback ports: the protected site, and a static upstream behind it.
    static func start(gatewayPort: Int) async throws -> Nginx {
        let binary = try #require(Self.binary, "GATEHOUSE_REQUIRE_NGINX=1 but nginx is not installed")
        let directory = try TestFixtures.temporaryDirectory()
        let site = try LoopbackPort.free()
        let upstream = try LoopbackPort.free()
        let content = directory.appendingPathComponent("www/reports")
        try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
        try Data("<html><body>Q3 upstream report</body></html>".utf8).write(to: content.appendingPathComponent("q3.html"))
        for page in ["public/index.html", "admin/index.html", "ops/index.html"] {
            let file = directory.appendingPathComponent("www/\(page)")
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("<html><body>upstream \(page)</body></html>".utf8).write(to: file)
        }
        // Both snippets sit in nginx's configuration directory, as the operator puts them.
        for name in ["gatehouse-locations.conf", "gatehouse-identity.conf"] {
            try FileManager.default.copyItem(
                at: GatehouseProcess.repositoryRoot.appendingPathComponent("Deploy/nginx/\(name)"),
                to: directory.appendingPathComponent(name)
            )
        }
        let snippet = directory.appendingPathComponent("gatehouse-locations.conf").path
        let temporary = directory.path
        let configuration = """
            worker_processes 1;
            pid \(temporary)/nginx.pid;
            error_log stderr notice;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(temporary)/body;
                proxy_temp_path \(temporary)/proxy;
                fastcgi_temp_path \(temporary)/fastcgi;
                uwsgi_temp_path \(temporary)/uwsgi;
                scgi_temp_path \(temporary)/scgi;
                upstream gatehouse { server 127.0.0.1:\(gatewayPort); }
                upstream app { server 127.0.0.1:\(upstream); }
                server {
                    listen 127.0.0.1:\(upstream);
                    root \(temporary)/www;
                    location = /whoami { default_type text/plain; return 200 "$http_x_auth_request_user $http_x_auth_request_email"; }
                    location = /whoami/all {
                        default_type text/plain;
                        return 200 "$http_x_auth_request_user|$http_x_auth_request_email|$http_x_auth_request_groups|$http_x_auth_request_preferred_username";
                    }
                }
                server {
                    listen 127.0.0.1:\(site);
                    include \(snippet);
                }
            }
            """
        let file = directory.appendingPathComponent("nginx.conf")
        try Data(configuration.utf8).write(to: file)
        let process = try GatehouseProcess(
            ["-p", temporary, "-c", file.path, "-g", "daemon off;"],
            executable: URL(fileURLWithPath: binary)
        )
        _ = try await process.waitFor("start worker process")
        return Nginx(process: process, directory: directory, baseURL: "http://127.0.0.1:\(site)")
    }

    func stop() async {
        _ = await process.stop(signal: SIGQUIT)
        try? FileManager.default.removeItem(at: directory)
    }
}
