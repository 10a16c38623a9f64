import Foundation
import Logging
import Testing

@testable import Gatehouse

@Suite("Configuration")
struct ConfigurationTests {
    let environment = ["LOGINRADIUS_API_KEY": "key-123", "LOGINRADIUS_API_SECRET": "secret-456"]

    func load(_ json: String, environment: [String: String]? = nil) throws(ConfigurationError) -> LoadedConfiguration {
        try ConfigurationLoader.load(json: Data(json.utf8), environment: environment ?? self.environment)
    }

    func problems(_ json: String, environment: [String: String]? = nil) -> [ConfigurationProblem] {
        do {
            _ = try load(json, environment: environment)
            return []
        } catch {
            return error.problems
        }
    }

    @Test("config.oidc.example.json loads: issuer kept exactly, secret from the environment, scopes as listed")
    func openIDExampleFile() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config.oidc.example.json").path
        let loaded = try ConfigurationLoader.load(fromFile: path, environment: ["GATEHOUSE_CLIENT_SECRET": "s3cret"])
        #expect(loaded.warnings.isEmpty)
        let provider = loaded.configuration.provider
        #expect(provider.kind == .openIDConnect)
        #expect(provider.openIDConnect == .init(issuer: "https://idp.example.com/realms/main", clientID: "gatehouse", clientSecret: "s3cret"))
        #expect(loaded.configuration.sessions.lifetime.revalidateAfter == 300)
    }

    @Test("oidc needs issuer and clientID; a trailing slash on the issuer is kept; openid is always a scope; no secret is a public client")
    func openIDKeys() throws {
        let missing = problems(#"{"provider": {"type": "oidc"}}"#).map(\.key)
        #expect(missing.contains("provider.issuer") && missing.contains("provider.clientID"))
        #expect(problems(#"{"provider": {"type": "oidc", "issuer": "not a url", "clientID": "c"}}"#).map(\.key) == ["provider.issuer"])
        #expect(problems(#"{"provider": {"type": "oidc", "issuer": "https://i/", "clientID": "c", "scopes": "openid"}}"#).map(\.key) == ["provider.scopes"])
        let loaded = try load(#"{"provider": {"type": "oidc", "issuer": "https://idp.example/", "clientID": "c", "scopes": ["email"]}}"#)
        let client = try #require(loaded.configuration.provider.openIDConnect)
        #expect(client.issuer == "https://idp.example/")
        #expect(client.scopes == ["openid", "email"])
        #expect(client.clientSecret == nil)
        let secret = problems(#"{"provider": {"type": "oidc", "issuer": "https://i", "clientID": "c", "clientSecret": "env:UNSET_SECRET_VAR"}}"#)
        #expect(secret.map(\.key) == ["provider.clientSecret"])
    }

    @Test("config.example.json loads with every key honoured")
    func exampleFile() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config.example.json").path
        let loaded = try ConfigurationLoader.load(fromFile: path, environment: environment)
        let configuration = loaded.configuration
        #expect(loaded.warnings.isEmpty)
        #expect(configuration.publicURL == "http://localhost:8080")
        #expect(configuration.listen == .init(host: "127.0.0.1", port: 8080))
        #expect(configuration.provider.kind == .loginRadius)
        #expect(configuration.provider.apiKey == "key-123")
        #expect(configuration.provider.apiSecret == "secret-456")
        #expect(configuration.provider.hostedPageURL == "https://my-app.hub.loginradius.com/auth.aspx")
        #expect(configuration.provider.apiURL == "https://api.loginradius.com")
        #expect(configuration.provider.timeoutSeconds == 5)
        #expect(configuration.sessions.store == .sqlite)
        #expect(configuration.sessions.sqlitePath == "gatehouse-sessions.sqlite")
        #expect(configuration.sessions.cookieName == "gatehouse_session")
        #expect(configuration.sessions.secureCookies == true)
        #expect(configuration.sessions.lifetime == .init(idleTimeout: 1800, absoluteTimeout: 28800, revalidateAfter: 30))
        #expect(configuration.redirects.afterLogin.path == "/dashboard")
        #expect(configuration.redirects.afterLogout.path == "/")
        #expect(configuration.logLevel == .info)
        #expect(configuration.metrics == .init(enabled: true, listen: .init(host: "127.0.0.1", port: 9464)))
    }

    @Test("defaults: hosted page from appName, LoginRadius API URL, sqlite store, 5 s timeout")
    func defaults() throws {
        let configuration = try load(#"{"provider": {"appName": "acme", "apiKey": "k"}}"#).configuration
        #expect(configuration.provider.hostedPageURL == "https://acme.hub.loginradius.com/auth.aspx")
        #expect(configuration.provider.apiURL == "https://api.loginradius.com")
        #expect(configuration.provider.timeoutSeconds == 5)
        #expect(configuration.sessions.store == .sqlite)
        #expect(configuration.sessions.keyFile == "gatehouse-sessions.sqlite.key")
        #expect(configuration.sessions.lifetime.revalidateAfter == 30)
        #expect(configuration.publicURL == "http://127.0.0.1:8080")
        #expect(configuration.sessions.secureCookies == false, "plain-HTTP public URL defaults to non-Secure cookies")
    }

    @Test("hostedPageURL and apiURL can point anywhere; trailing slashes are trimmed")
    func overrides() throws {
        let configuration = try load(
            #"{"publicURL": "https://login.example.com/", "provider": {"apiKey": "k", "hostedPageURL": "http://127.0.0.1:9000/auth.aspx", "apiURL": "http://127.0.0.1:9000/"}}"#
        ).configuration
        #expect(configuration.publicURL == "https://login.example.com")
        #expect(configuration.provider.hostedPageURL == "http://127.0.0.1:9000/auth.aspx")
        #expect(configuration.provider.apiURL == "http://127.0.0.1:9000")
        #expect(configuration.sessions.secureCookies == true)
    }

    @Test("an env: reference to a missing variable names the key and the variable")
    func missingEnvironmentVariable() {
        let found = problems(#"{"provider": {"appName": "a", "apiKey": "env:NOT_SET_ANYWHERE"}}"#)
        #expect(found.count == 1)
        #expect(found.first?.key == "provider.apiKey")
        #expect(found.first?.description.contains("NOT_SET_ANYWHERE") == true)
        #expect(found.first?.description.contains("export NOT_SET_ANYWHERE") == true)
    }

    @Test("bad JSON is one clear problem")
    func badJSON() {
        let found = problems(#"{"provider": {"apiKey": "k",}"#)
        #expect(found.count == 1)
        #expect(found.first?.message.contains("not valid JSON") == true)
    }

    @Test("an unknown store is refused with the list of stores")
    func unknownStore() {
        let found = problems(#"{"provider": {"appName": "a", "apiKey": "k"}, "sessions": {"store": "redis"}}"#)
        #expect(found.map(\.key) == ["sessions.store"])
        #expect(found.first?.fix.contains("memory, sqlite, postgres") == true)
    }

    @Test("missing apiKey and appName are both reported, at once")
    func missingKeys() {
        let found = problems(#"{"provider": {"type": "loginradius"}}"#)
        #expect(Set(found.map(\.key)) == ["provider.apiKey", "provider.appName"])
    }

    @Test("wrong types, ranges and redirect targets are problems with the key's name")
    func typeProblems() {
        let found = problems(
            #"""
            {"listen": {"port": 70000}, "provider": {"appName": "a", "apiKey": "k", "timeoutSeconds": "soon"},
             "sessions": {"secureCookies": "yes", "idleTimeoutSeconds": -1, "cookieName": "bad name"},
             "redirects": {"afterLogin": "https://evil.example/", "afterLogout": "//evil.example"}}
            """#
        )
        #expect(
            Set(found.map(\.key)) == [
                "listen.port", "provider.timeoutSeconds", "sessions.secureCookies", "sessions.idleTimeoutSeconds",
                "sessions.cookieName", "redirects.afterLogin", "redirects.afterLogout",
            ]
        )
    }

    @Test("an unknown provider type is refused")
    func unknownProvider() {
        #expect(problems(#"{"provider": {"type": "okta"}}"#).map(\.key) == ["provider.type"])
    }

    @Test("unknown keys are warnings that suggest the right name")
    func unknownKeys() throws {
        let loaded = try load(#"{"provider": {"appName": "a", "apiKey": "k"}, "sessions": {"cookiename": "x"}}"#)
        #expect(loaded.warnings.map(\.key) == ["sessions.cookiename"])
        #expect(loaded.warnings.first?.fix.contains("cookieName") == true)
    }

    @Test("the mock provider needs no key and serves its page under the gateway")
    func mockProvider() throws {
        let configuration = try load(#"{"publicURL": "http://localhost:8080", "provider": {"type": "mock"}, "sessions": {"store": "memory"}}"#).configuration
        #expect(configuration.provider.kind == .mock)
        #expect(configuration.provider.hostedPageURL == "http://localhost:8080/mock-idp/auth.aspx")
        #expect(configuration.sessions.store == .memory)
    }

    @Test("the postgres store needs a postgres:// URL and a shared encryption key")
    func postgresStore() throws {
        #expect(
            Set(problems(#"{"provider": {"type": "mock"}, "sessions": {"store": "postgres"}}"#).map(\.key)) == [
                "sessions.postgresURL", "sessions.encryptionKey",
            ]
        )
        let key = Data(repeating: 2, count: 32).base64EncodedString()
        #expect(
            problems(#"{"provider": {"type": "mock"}, "sessions": {"store": "postgres", "postgresURL": "mysql://x", "encryptionKey": "\#(key)"}}"#)
                .map(\.key) == ["sessions.postgresURL"]
        )
        let configuration = try load(
            #"{"provider": {"type": "mock"}, "sessions": {"store": "postgres", "postgresURL": "env:PG", "encryptionKey": "\#(key)"}}"#,
            environment: ["PG": "postgres://u:p%40ss@db.internal:6543/gatehouse?sslmode=require"]
        ).configuration
        #expect(configuration.sessions.store == .postgres)
        #expect(configuration.sessions.postgresURL == "postgres://u:p%40ss@db.internal:6543/gatehouse?sslmode=require")
        #expect(
            !problems(#"{"provider": {"type": "mock"}, "sessions": {"store": "postgres", "postgresURL": "postgres://u:hunter2@h/db"}}"#).description.contains(
                "hunter2"
            )
        )
    }

    @Test("encryptionKey must be 32 bytes of base64")
    func encryptionKey() throws {
        let good = Data(repeating: 1, count: 32).base64EncodedString()
        let configuration = try load(#"{"provider": {"type": "mock"}, "sessions": {"encryptionKey": "env:KEY"}}"#, environment: ["KEY": good]).configuration
        #expect(configuration.sessions.encryptionKey == Data(repeating: 1, count: 32))
        #expect(problems(#"{"provider": {"type": "mock"}, "sessions": {"encryptionKey": "c2hvcnQ="}}"#).map(\.key) == ["sessions.encryptionKey"])
    }

    @Test("logLevel and listen.idleTimeoutSeconds are read; a bad level names the key")
    func logLevelAndIdleTimeout() throws {
        let configuration = try load(#"{"provider": {"type": "mock"}, "logLevel": "Debug", "listen": {"idleTimeoutSeconds": 12}}"#).configuration
        #expect(configuration.logLevel == .debug)
        #expect(configuration.listen.idleTimeoutSeconds == 12)
        #expect(configuration.listen.limits.idleTimeout == .seconds(12))
        #expect(try load(#"{"provider": {"type": "mock"}}"#).configuration.logLevel == .info)
        #expect(problems(#"{"provider": {"type": "mock"}, "logLevel": "loud"}"#).map(\.key) == ["logLevel"])
        #expect(problems(#"{"provider": {"type": "mock"}, "listen": {"idleTimeoutSeconds": 0}}"#).map(\.key) == ["listen.idleTimeoutSeconds"])
    }

    @Test("metrics are on beside the gateway by default; metrics.listen moves them, metrics.enabled turns them off")
    func metrics() throws {
        let defaults = try load(#"{"provider": {"type": "mock"}}"#).configuration.metrics
        #expect(defaults == .init(enabled: true, listen: nil))
        let separate = try load(#"{"provider": {"type": "mock"}, "metrics": {"listen": {"host": "0.0.0.0"}}}"#).configuration.metrics
        #expect(separate.listen == .init(host: "0.0.0.0", port: 9464))
        #expect(try load(#"{"provider": {"type": "mock"}, "metrics": {"enabled": false}}"#).configuration.metrics.enabled == false)

        let clash = problems(#"{"provider": {"type": "mock"}, "listen": {"port": 8080}, "metrics": {"listen": {"port": 8080}}}"#)
        #expect(clash.map(\.key) == ["metrics.listen"])
        let wrong = problems(#"{"provider": {"type": "mock"}, "metrics": {"enabled": "yes", "listen": {"port": 70000, "host": ""}}}"#)
        #expect(wrong.map(\.key).sorted() == ["metrics.enabled", "metrics.listen.host", "metrics.listen.port"])
        #expect(wrong.first { $0.key == "metrics.listen.port" }?.fix.contains("metrics.listen.port") == true)
    }

    @Test("no problem message contains a secret value")
    func secretsNotEchoed() {
        let found = problems(#"{"provider": {"apiKey": 12345678, "apiSecret": "s3cr3t-value", "type": "nope"}}"#)
        #expect(!found.isEmpty)
        #expect(!found.map(\.description).joined().contains("s3cr3t-value"))
        #expect(!found.map(\.description).joined().contains("12345678"))
    }

    @Test("a missing file is a problem, not a crash")
    func missingFile() {
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(fromFile: "/nonexistent/gatehouse.json") }
    }
}
