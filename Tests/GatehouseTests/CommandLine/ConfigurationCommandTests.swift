import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import Gatehouse

/// The configuration as an operator meets it through the binary: the environment alone,
/// `check-config`'s report, and reloads while serving.
@Suite("Configuration from the command line", .timeLimit(.minutes(2)))
struct ConfigurationCommandTests {
    @Test("serve runs with no file at all when GATEHOUSE_* variables configure it")
    func environmentOnly() async throws {
        let process = try GatehouseProcess(
            ["serve"],
            environment: ["GATEHOUSE_PROVIDER_TYPE": "mock", "GATEHOUSE_SESSIONS_STORE": "memory", "GATEHOUSE_LISTEN_PORT": "0"]
        )
        let port = try await process.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#)
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"), timeout: .seconds(10))
        #expect(response.status.code == 200)
        #expect(await process.stop() == 0)
    }

    @Test("check-config shows every setting with its source, flag over environment over file, and no secret")
    func report() async throws {
        let key = Data(repeating: 0x5A, count: 32).base64EncodedString()
        let config = try TestFixtures.temporaryDirectory().appendingPathComponent("gatehouse.yaml")
        try Data("provider:\n  type: mock\n  apiKey: env:MOCK_KEY\nsessions:\n  store: memory\nlisten:\n  port: 8100\n".utf8).write(to: config)
        let process = try GatehouseProcess(
            ["check-config", "--config", config.path, "--port", "8300"],
            environment: [
                "GATEHOUSE_SESSIONS_ENCRYPTION_KEY": key, "MOCK_KEY": "mock-key-do-not-print", "GATEHOUSE_LOG_LEVEL": "debug", "GATEHOUSE_LISTEN_PORT": "8200",
            ]
        )
        #expect(await process.exitStatus() == 0)
        let printed = process.printed
        #expect(printed.contains("listen.port = 8300  (flag --port)"))
        #expect(printed.contains("logLevel = \"debug\"  (environment variable GATEHOUSE_LOG_LEVEL)"))
        #expect(printed.contains("sessions.store = \"memory\"  (file \(config.path))"))
        #expect(printed.contains("sessions.encryptionKey = <redacted>  (environment variable GATEHOUSE_SESSIONS_ENCRYPTION_KEY)"))
        #expect(printed.contains("provider.apiKey = <redacted>  (file \(config.path), via env:MOCK_KEY)"))
        #expect(printed.contains("sessions.idleTimeoutSeconds = 1800  (default)"))
        #expect(!printed.contains(key) && !printed.contains("mock-key-do-not-print"))

        let broken = try GatehouseProcess(["check-config"], environment: ["GATEHOUSE_SESSIONS_STORE": "postgres", "GATEHOUSE_PROVIDER_TYPE": "mock"])
        #expect(await broken.exitStatus() == 1)
        #expect(broken.printed.contains("sessions.postgresURL"))
        #expect(broken.printed.contains("GATEHOUSE_SESSIONS_POSTGRES_URL"), "the missing setting names its environment variable")
    }

    @Test("SIGHUP reloads the log level and redirects, reports what needs a restart, and refuses a broken file without changing anything")
    func reload() async throws {
        let port = try LoopbackPort.free()
        let base = "http://127.0.0.1:\(port)"
        let config = try TestFixtures.temporaryDirectory().appendingPathComponent("gatehouse.json")
        func write(_ afterLogin: String, logLevel: String, listenPort: Int) throws {
            try Data(
                #"{"publicURL": "\#(base)", "listen": {"port": \#(listenPort)}, "provider": {"type": "mock"}, "sessions": {"store": "memory"}, "redirects": {"afterLogin": "\#(afterLogin)"}, "logLevel": "\#(logLevel)"}"#
                    .utf8
            ).write(to: config)
        }
        try write("/one", logLevel: "warning", listenPort: port)
        let process = try GatehouseProcess(["serve", "--config", config.path])
        _ = try await process.waitFor("listening on")
        let client = GatewayHTTPClient()
        do {
            try await reloads(process, client: client, base: base, port: port, config: config, write: write)
        } catch {
            try? await client.shutdown()
            _ = await process.stop()
            throw error
        }
        try await client.shutdown()
        #expect(await process.stop() == 0)
    }

    private func reloads(
        _ process: GatehouseProcess,
        client: GatewayHTTPClient,
        base: String,
        port: Int,
        config: URL,
        write: (String, String, Int) throws -> Void
    ) async throws {
        #expect(try await logIn(client, at: base) == "/one")
        #expect(!process.printed.contains("http.route=/login"), "at warning, no request lines")

        try write("/two", "info", port + 1)
        kill(process.pid, SIGHUP)
        _ = try await process.waitFor(#"applied="logLevel, redirects\.afterLogin" reason=SIGHUP .*Configuration reloaded"#)
        _ = try await process.waitFor(#"needs\.restart=listen\.port reason=SIGHUP .*need a restart"#)
        #expect(try await logIn(client, at: base) == "/two", "the new afterLogin, on the port the gateway started with")
        _ = try await process.waitFor(#"http\.route=/login"#)

        try Data(#"{"redirects": {"afterLogin": "#.utf8).write(to: config)
        kill(process.pid, SIGHUP)
        _ = try await process.waitFor(#"Configuration reload refused: nothing was changed"#)
        #expect(try await logIn(client, at: base) == "/two")

        try write("/three", "info", port)
        _ = try await process.waitFor(#"applied=redirects\.afterLogin reason="the file .* changed" .*Configuration reloaded"#, within: .seconds(30))
        #expect(try await logIn(client, at: base) == "/three", "a change of the file is noticed without a signal")
    }

    /// A whole login at the in-gateway mock; returns where the callback sends the browser.
    private func logIn(_ client: GatewayHTTPClient, at base: String) async throws -> String? {
        let login = try await client.send(.GET, "\(base)/login")
        let attempt = try #require(login.cookies(prefixed: "gatehouse_session_state_").first)
        let hostedPage = try #require(login.headers.first(name: "Location").flatMap(URLComponents.init(string:)))
        let returnURL = try #require(hostedPage.queryItems?.first { $0.name == "return_url" }?.value)
        let form = "action=login&uid=\(TestFixtures.adaID)&return_url=\(PercentEncoding.encodeComponent(returnURL))"
        let submitted = try await client.send(.POST, "\(base)/mock-idp/auth.aspx", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: form)
        let back = try #require(submitted.headers.first(name: "Location"))
        return try await client.send(.GET, back, cookies: [attempt.name: attempt.value]).headers.first(name: "Location")
    }
}
