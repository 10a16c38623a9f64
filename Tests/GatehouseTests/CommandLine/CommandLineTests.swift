import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The `gatehouse` commands as an operator runs them.
@Suite("Command line", .timeLimit(.minutes(2)))
struct CommandLineTests {
    static let environment = ["LOGINRADIUS_API_KEY": "key-123", "LOGINRADIUS_API_SECRET": "secret-456"]

    func writeConfig(_ json: String) throws -> URL {
        let url = try TestFixtures.temporaryDirectory().appendingPathComponent("gatehouse.json")
        try Data(json.utf8).write(to: url)
        return url
    }

    @Test("check-config accepts config.example.json and exits 0")
    func checkConfigAccepts() async throws {
        let process = try GatehouseProcess(["check-config", "--config", "config.example.json"], environment: Self.environment)
        #expect(await process.exitStatus() == 0)
        #expect(process.printed.contains("usable"))
    }

    @Test("check-config exits 1 with one line per problem, naming each key, and no secret")
    func checkConfigRefuses() async throws {
        let config = try writeConfig(#"{"provider": {"type": "loginradius", "apiSecret": "do-not-print-me"}, "sessions": {"store": "redis"}}"#)
        let process = try GatehouseProcess(["check-config", "--config", config.path])
        #expect(await process.exitStatus() == 1)
        let problems = process.printed.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(problems.count == 3)
        for key in ["provider.apiKey", "provider.appName", "sessions.store"] {
            #expect(problems.contains { $0.contains(key) }, "\(key)")
        }
        #expect(!process.printed.contains("do-not-print-me"))
    }

    @Test("serve refuses a missing file, bad JSON and a missing env variable, naming the problem")
    func serveRefusesBadConfig() async throws {
        let missing = try GatehouseProcess(["serve", "--config", "/nonexistent/gatehouse.json"])
        #expect(await missing.exitStatus() != 0)
        #expect(missing.printed.contains("does not exist"))

        let badJSON = try GatehouseProcess(["serve", "--config", try writeConfig("{").path])
        #expect(await badJSON.exitStatus() != 0)
        #expect(badJSON.printed.contains("not valid JSON"))

        let noEnv = try GatehouseProcess(["serve", "--config", try writeConfig(#"{"provider": {"appName": "a", "apiKey": "env:GATEHOUSE_TEST_UNSET"}}"#).path])
        #expect(await noEnv.exitStatus() != 0)
        #expect(noEnv.printed.contains("provider.apiKey") && noEnv.printed.contains("GATEHOUSE_TEST_UNSET"))
        #expect(!noEnv.printed.contains("listening"))
    }

    @Test("serve exits non-zero with a clear message, not a hang, when its PostgreSQL is down; the password is never printed")
    func serveWithPostgresDown() async throws {
        let key = Data(repeating: 1, count: 32).base64EncodedString()
        let config = try writeConfig(
            #"{"provider": {"type": "mock"}, "sessions": {"store": "postgres", "postgresURL": "postgres://u:s3cretpw@127.0.0.1:9/db?sslmode=disable", "encryptionKey": "\#(key)"}}"#
        )
        let process = try GatehouseProcess(["serve", "--config", config.path, "--port", "0"])
        #expect(await process.exitStatus() != 0)
        #expect(process.printed.contains("PostgreSQL session store at 127.0.0.1:9 could not be prepared"))
        #expect(!process.printed.contains("s3cretpw"))
        #expect(!process.printed.contains("listening"))
    }

    @Test("serve starts from a config, answers /healthz, logs at the configured level, and exits 0 on SIGTERM")
    func serveRunsAndStops() async throws {
        let directory = try TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try writeConfig(
            #"{"publicURL": "http://127.0.0.1:8080", "provider": {"type": "mock"}, "sessions": {"sqlitePath": "\#(directory.path)/s.sqlite"}, "logLevel": "warning"}"#
        )
        let process = try GatehouseProcess(["serve", "--config", config.path, "--port", "0"])
        let port = try await process.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#)
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"), timeout: .seconds(10))
        #expect(response.status.code == 200)
        let ready = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz"), timeout: .seconds(10))
        #expect(ready.status.code == 200)
        #expect(await process.stop() == 0)
        #expect(!process.printed.contains("http.route=/healthz"), "logLevel warning leaves out the info-level request lines")
        let permissions = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("s.sqlite.key").path)[.posixPermissions] as? Int
        #expect(permissions == 0o600, "the generated session key file is private")
    }

    @Test("mock-idp runs from any directory, finding the repository's fixture users")
    func mockProviderElsewhere() async throws {
        let elsewhere = try TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let process = try GatehouseProcess(["mock-idp", "--port", "0"], directory: elsewhere)
        let port = try await process.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#)
        let page = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)/auth.aspx?action=login&return_url=http%3A%2F%2F127.0.0.1%2Fx"),
            timeout: .seconds(10)
        )
        #expect(page.status.code == 200)
        let body = try await page.body.collect(upTo: 1 << 20)
        #expect(String(buffer: body).contains("Grace Hopper"))
        #expect(await process.stop() == 0)
    }

    @Test("demo starts both servers with zero configuration, prints the URL and the fixture logins")
    func demo() async throws {
        let (base, idpPort) = (try LoopbackPort.free(), try LoopbackPort.free())
        let process = try GatehouseProcess(["demo", "--port", "\(base)", "--idp-port", "\(idpPort)"])
        _ = try await process.waitFor("Stop with Ctrl-C")
        #expect(process.printed.contains("http://127.0.0.1:\(base)/"))
        #expect(process.printed.contains("Ada Lovelace <ada@example.com>"))
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        let login = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(base)/login"), timeout: .seconds(10))
        #expect(login.status.code == 303)
        #expect(login.headers.first(name: "Location")?.hasPrefix("http://127.0.0.1:\(idpPort)/auth.aspx?action=login") == true)
        let page = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(idpPort)/auth.aspx?action=login&return_url=http%3A%2F%2F127.0.0.1%2Fx"),
            timeout: .seconds(10)
        )
        #expect(page.status.code == 200)
        #expect(await process.stop(signal: SIGINT) == 0)
    }
}
