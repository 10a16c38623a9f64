import Configuration
import Foundation
import Logging
import Testing

@testable import Gatehouse

@Suite("Configuration")
struct ConfigurationTests {
    let environment = ["LOGINRADIUS_API_KEY": "key-123", "LOGINRADIUS_API_SECRET": "secret-456"]

    /// Loads `text` as the configuration file (`name` gives its format), with `environment` and `flags`.
    func load(
        _ text: String,
        name: String = "gatehouse.json",
        environment: [String: String]? = nil,
        flags: [String: ConfigurationSources.Flag] = [:]
    ) async throws(ConfigurationError) -> LoadedConfiguration {
        let file = try! TestFixtures.temporaryDirectory().appendingPathComponent(name)
        try! Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        return try await ConfigurationLoader.load(.init(flags: flags, environment: environment ?? self.environment, file: file.path))
    }

    func problems(_ text: String, environment: [String: String]? = nil) async -> [ConfigurationProblem] {
        do {
            _ = try await load(text, environment: environment)
            return []
        } catch {
            return error.problems
        }
    }

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test("a setting comes from the flag, else the environment, else the file, else its default; each says where it came from")
    func precedence() async throws {
        let file = #"{"provider": {"type": "mock"}, "listen": {"port": 8100}}"#
        let flag = ["listen.port": ConfigurationSources.Flag("--port", .int(8300))]
        let environment = ["GATEHOUSE_LISTEN_PORT": "8200"]
        func port(_ loaded: LoadedConfiguration) -> (Int, ConfigurationSource?) {
            (loaded.configuration.listen.port, loaded.settings.last { $0.key == "listen.port" }?.source)
        }
        let all = port(try await load(file, environment: environment, flags: flag))
        #expect(all.0 == 8300 && all.1 == .flag("--port"))
        let noFlag = port(try await load(file, environment: environment))
        #expect(noFlag.0 == 8200 && noFlag.1 == .environment("GATEHOUSE_LISTEN_PORT"))
        let fileOnly = try await load(file, environment: [:])
        #expect(port(fileOnly).0 == 8100)
        guard case .file(_, nil)? = port(fileOnly).1 else { Issue.record("the file's port should say so: \(String(describing: port(fileOnly).1))"); return }
        let none = port(try await load(#"{"provider": {"type": "mock"}}"#, environment: [:]))
        #expect(none.0 == 8080 && none.1 == .defaultValue)
    }

    @Test("with no file, the environment configures everything: GATEHOUSE_ + the key path in upper snake case, lists comma-separated")
    func environmentOnly() async throws {
        let loaded = try await ConfigurationLoader.load(
            .init(environment: [
                "GATEHOUSE_PROVIDER_TYPE": "oidc", "GATEHOUSE_PROVIDER_ISSUER": "https://idp.example/realms/main",
                "GATEHOUSE_PROVIDER_CLIENT_ID": "gatehouse", "GATEHOUSE_PROVIDER_CLIENT_SECRET": "s3cret-from-env",
                "GATEHOUSE_PROVIDER_SCOPES": "openid, email,groups", "GATEHOUSE_PUBLIC_URL": "https://login.example.com",
                "GATEHOUSE_SESSIONS_STORE": "memory", "GATEHOUSE_SESSIONS_REVALIDATE_AFTER_SECONDS": "0", "GATEHOUSE_LOG_LEVEL": "debug",
            ])
        )
        let configuration = loaded.configuration
        #expect(
            configuration.provider.openIDConnect
                == .init(
                    issuer: "https://idp.example/realms/main",
                    clientID: "gatehouse",
                    clientSecret: "s3cret-from-env",
                    scopes: ["openid", "email", "groups"]
                )
        )
        #expect(configuration.publicURL == "https://login.example.com")
        #expect(configuration.sessions.store == .memory && configuration.sessions.secureCookies)
        #expect(configuration.sessions.lifetime.revalidateAfter == 0)
        #expect(configuration.logLevel == .debug)
        #expect(loaded.warnings.isEmpty)
        let secret = try #require(loaded.settings.first { $0.key == "provider.clientSecret" })
        #expect(secret.value == "<redacted>" && secret.source == .environment("GATEHOUSE_PROVIDER_CLIENT_SECRET"))
        #expect(!loaded.settings.map(\.description).joined().contains("s3cret-from-env"))
        #expect(ConfigurationSources.environmentVariable(for: "sessions.idleTimeoutSeconds") == "GATEHOUSE_SESSIONS_IDLE_TIMEOUT_SECONDS")
    }

    @Test("a wrong value in the environment or a flag names the variable or the flag, and hides a secret's value")
    func sourcesInProblems() async {
        let found = await problems(
            #"{"provider": {"type": "mock"}}"#,
            environment: ["GATEHOUSE_LISTEN_PORT": "eighty", "GATEHOUSE_SESSIONS_ENCRYPTION_KEY": "not-32-bytes-hunter2"]
        )
        let port = found.first { $0.key == "listen.port" }
        #expect(port?.source == .environment("GATEHOUSE_LISTEN_PORT"))
        #expect(port?.description.contains("GATEHOUSE_LISTEN_PORT") == true)
        let key = found.first { $0.key == "sessions.encryptionKey" }
        #expect(key?.source == .environment("GATEHOUSE_SESSIONS_ENCRYPTION_KEY"))
        #expect(!found.map(\.description).joined().contains("hunter2"))
        do {
            _ = try await load(#"{"provider": {"type": "mock"}}"#, flags: ["sessions.store": .init("--sessions-store", .string("redis"))])
            Issue.record("an unknown store from a flag was accepted")
        } catch {
            #expect(error.problems.first?.source == .flag("--sessions-store"))
        }
    }

    @Test("the same settings in YAML and in JSON make the same configuration")
    func yamlAndJSON() async throws {
        let json = try await load(
            #"{"provider": {"type": "oidc", "issuer": "https://i.example/", "clientID": "c", "clientSecret": "env:CS", "scopes": ["openid", "groups"]}, "listen": {"port": 9001}, "sessions": {"store": "memory", "revalidateAfterSeconds": 12.5}, "redirects": {"afterLogin": "/home"}}"#,
            environment: ["CS": "x"]
        )
        let yaml = try await load(
            """
            # the same, in YAML
            provider:
              type: oidc
              issuer: "https://i.example/"
              clientID: c
              clientSecret: "env:CS"
              scopes: [openid, groups]
            listen:
              port: 9001
            sessions:
              store: memory
              revalidateAfterSeconds: 12.5
            redirects:
              afterLogin: /home
            """,
            name: "gatehouse.yaml",
            environment: ["CS": "x"]
        )
        #expect(json.settings.map { "\($0.key)=\($0.value)" } == yaml.settings.map { "\($0.key)=\($0.value)" })
        #expect(yaml.configuration.provider.openIDConnect?.clientSecret == "x")
        #expect(yaml.configuration.sessions.lifetime.revalidateAfter == 12.5)
        #expect(await problems("provider: [unclosed").first?.message.contains("not valid YAML") != true, "a .json name reads JSON")
    }

    @Test("an env: reference in a setting the configuration does not use need not resolve; in one it uses, it must")
    func unusedReferences() async throws {
        let loaded = try await load(
            #"{"provider": {"type": "mock", "apiSecret": "env:UNSET_AND_UNUSED", "clientSecret": "env:ALSO_UNSET"}, "sessions": {"store": "memory", "postgresURL": "env:NO_DATABASE_HERE"}}"#,
            environment: [:]
        )
        #expect(loaded.warnings.isEmpty, "declared settings are known, not unknown")
        #expect(
            await problems(#"{"provider": {"type": "mock"}, "sessions": {"store": "postgres", "postgresURL": "env:NO_DATABASE_HERE"}}"#).contains {
                $0.key == "sessions.postgresURL"
            }
        )
    }

    @Test("a reload applies the revalidation interval, redirects and log level; refuses an invalid file; leaves restart-only settings as they run")
    func reload() async throws {
        let file = try TestFixtures.temporaryDirectory().appendingPathComponent("gatehouse.json")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        func write(_ json: String) throws { try Data(json.utf8).write(to: file) }
        try write(#"{"provider": {"type": "mock"}, "sessions": {"store": "memory", "revalidateAfterSeconds": 30}}"#)
        let sources = ConfigurationSources(environment: [:], file: file.path)
        let loaded = try await ConfigurationLoader.load(sources)
        let live = LiveSettings(configuration: loaded.configuration)
        let reloader = ConfigurationReloader(sources: sources, loaded: loaded, live: live, logger: Logger(label: "test"))
        #expect(await reloader.reload() == .unchanged)

        try write(
            #"{"provider": {"type": "mock"}, "sessions": {"store": "sqlite", "revalidateAfterSeconds": 5}, "redirects": {"afterLogin": "/welcome"}, "logLevel": "debug"}"#
        )
        let outcome = await reloader.reload()
        #expect(outcome == .reloaded(applied: ["logLevel", "redirects.afterLogin", "sessions.revalidateAfterSeconds"], needRestart: ["sessions.store"]))
        #expect(live.sessionRules.value.revalidateAfter == 5)
        #expect(live.redirects.value.afterLogin.path == "/welcome")
        #expect(live.logLevel.value == .debug)

        try write(#"{"provider": {"type": "mock"}, "sessions": {"revalidateAfterSeconds": -3}}"#)
        guard case .refused(let problems) = await reloader.reload() else { Issue.record("an invalid reload was applied"); return }
        #expect(problems.map(\.key) == ["sessions.revalidateAfterSeconds"])
        #expect(live.sessionRules.value.revalidateAfter == 5, "nothing changed")
        try write("{ not json")
        guard case .refused = await reloader.reload() else { Issue.record("a broken file was applied"); return }
        #expect(live.redirects.value.afterLogin.path == "/welcome")

        // Access rules reload, and removing a list entry is a change like any other.
        let routes = #"[{"pathPrefix": "/public/", "policy": "public"}, {"pathPrefix": "/admin/", "allowGroups": ["admins"]}]"#
        try write(#"{"provider": {"type": "mock"}, "sessions": {"store": "memory"}, "access": {"routes": \#(routes)}}"#)
        guard case .reloaded(let applied, _) = await reloader.reload() else { Issue.record("the routes were not applied"); return }
        #expect(applied.contains("access.routes.1.pathPrefix"))
        #expect(live.access.value.policy.requirement(forPath: "/admin/x") == .rules(AccessRule(allowGroups: ["admins"])))
        try write(#"{"provider": {"type": "mock"}, "sessions": {"store": "memory"}, "access": {"routes": [{"pathPrefix": "/public/", "policy": "public"}]}}"#)
        guard case .reloaded(let removed, _) = await reloader.reload() else { Issue.record("removing a route changed nothing"); return }
        #expect(removed.contains("access.routes.1.pathPrefix"))
        #expect(live.access.value.policy.requirement(forPath: "/admin/x") == .authenticated)
        #expect(await reloader.reload() == .unchanged)
    }

    @Test("access rules read the same from JSON, YAML and the environment; routes are a list; problems name the entry")
    func accessSection() async throws {
        let json = """
            {"provider": {"type": "mock"}, "access": {"allowEmailDomains": ["example.com"], "allowGroups": ["admins"],
              "requireVerifiedEmail": false, "trustedProxies": ["10.0.0.0/8"], "passAccessToken": true, "groupsClaim": "realm_access.roles",
              "routes": [{"pathPrefix": "/public/", "policy": "public"}, {"pathPrefix": "/admin/", "allowGroups": ["root"]}]}}
            """
        let yaml = """
            provider:
              type: mock
            access:
              allowEmailDomains: [example.com]
              allowGroups:
                - admins
              requireVerifiedEmail: false
              trustedProxies: ["10.0.0.0/8"]
              passAccessToken: true
              groupsClaim: realm_access.roles
              routes:
                - pathPrefix: /public/
                  policy: public
                - pathPrefix: /admin/
                  allowGroups: [root]
            """
        let fromJSON = try await load(json).configuration.access
        let fromYAML = try await load(yaml, name: "gatehouse.yaml").configuration.access
        let fromEnvironment = try await ConfigurationLoader.load(
            .init(environment: [
                "GATEHOUSE_PROVIDER_TYPE": "mock", "GATEHOUSE_ACCESS_ALLOW_EMAIL_DOMAINS": "example.com", "GATEHOUSE_ACCESS_ALLOW_GROUPS": "admins",
                "GATEHOUSE_ACCESS_REQUIRE_VERIFIED_EMAIL": "false", "GATEHOUSE_ACCESS_TRUSTED_PROXIES": "10.0.0.0/8",
                "GATEHOUSE_ACCESS_PASS_ACCESS_TOKEN": "true", "GATEHOUSE_ACCESS_GROUPS_CLAIM": "realm_access.roles",
                "GATEHOUSE_ACCESS_ROUTES_0_PATH_PREFIX": "/public/", "GATEHOUSE_ACCESS_ROUTES_0_POLICY": "public",
                "GATEHOUSE_ACCESS_ROUTES_1_PATH_PREFIX": "/admin/", "GATEHOUSE_ACCESS_ROUTES_1_ALLOW_GROUPS": "root",
            ])
        ).configuration.access
        let expected = AccessPolicy(
            sessionRule: AccessRule(allowEmailDomains: ["example.com"], allowGroups: ["admins"], requireVerifiedEmail: false),
            routes: [
                .init(pathPrefix: "/public/", requirement: .public),
                .init(pathPrefix: "/admin/", requirement: .rules(AccessRule(allowGroups: ["root"], requireVerifiedEmail: false))),
            ]
        )
        for access in [fromJSON, fromYAML, fromEnvironment] {
            #expect(access.policy == expected)
            #expect(access.trustedProxies == (try TrustedProxies.parse(["10.0.0.0/8"]).get()))
            #expect(access.passAccessToken)
            #expect(access.claimNames(for: .openIDConnect).groups == "realm_access.roles")
        }
        #expect(ConfigurationSources.environmentVariable(for: "access.routes.0.pathPrefix") == "GATEHOUSE_ACCESS_ROUTES_0_PATH_PREFIX")

        let defaults = try await load(#"{"provider": {"type": "mock"}}"#).configuration.access
        #expect(defaults.policy == AccessPolicy())
        #expect(defaults.trustedProxies == .loopback)
        #expect(!defaults.passAccessToken)
        #expect(defaults.claimNames(for: .mock) == .loginRadius && defaults.claimNames(for: .openIDConnect) == .openIDConnect)

        let bad = await problems(
            """
            {"provider": {"type": "mock"}, "access": {"allowEmails": ["not-an-email"], "allowEmailDomains": ["@example.com"],
              "trustedProxies": ["10.0.0.0/40"], "routes": [{"pathPrefix": "admin"}, {"pathPrefix": "/x/", "policy": "public", "allowGroups": ["a"]},
              {"pathPrefix": "/y/", "policy": "open"}, {"pathPrefix": "/z/"}, {"pathPrefix": "/z/"}]}}
            """
        )
        #expect(
            bad.map(\.key).sorted() == [
                "access.allowEmailDomains", "access.allowEmails", "access.routes", "access.routes.0.pathPrefix", "access.routes.1.policy",
                "access.routes.2.policy", "access.trustedProxies",
            ]
        )
        #expect(bad.allSatisfy { !$0.fix.isEmpty })
        #expect(await problems(#"{"provider": {"type": "mock"}, "access": {"routes": ["/admin/"]}}"#).map(\.key) == ["access.routes"])
    }

    @Test("the README's configuration table lists exactly the keys the configuration reads")
    func readmeTable() async throws {
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let table = try #require(readme.components(separatedBy: "| key | default | meaning |").dropFirst().first)
        let rows = table.split(separator: "\n").dropFirst().prefix { $0.hasPrefix("|") }
        var listed: Set<String> = []
        for row in rows {
            let cell = row.split(separator: "|", omittingEmptySubsequences: true).first ?? ""
            for match in cell.matches(of: /`([A-Za-z0-9.]+)`/) { listed.insert(String(match.output.1)) }
        }
        let read = Set(await ConfigurationLoader.keys())
        #expect(read.subtracting(listed).sorted() == [], "read by the code but missing from the README's table")
        #expect(listed.subtracting(read).sorted() == [], "in the README's table but read by no code")
        #expect(read.count > 30)
    }

    @Test("config.oidc.example.json loads: issuer kept exactly, secret from the environment, scopes as listed")
    func openIDExampleFile() async throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config.oidc.example.json").path
        let loaded = try await ConfigurationLoader.load(.init(environment: ["GATEHOUSE_CLIENT_SECRET": "s3cret"], file: path))
        #expect(loaded.warnings.isEmpty)
        let provider = loaded.configuration.provider
        #expect(provider.kind == .openIDConnect)
        #expect(provider.openIDConnect == .init(issuer: "https://idp.example.com/realms/main", clientID: "gatehouse", clientSecret: "s3cret"))
        #expect(loaded.configuration.sessions.lifetime.revalidateAfter == 300)
    }

    @Test("oidc needs issuer and clientID; a trailing slash on the issuer is kept; openid is always a scope; no secret is a public client")
    func openIDKeys() async throws {
        let missing = await problems(#"{"provider": {"type": "oidc"}}"#).map(\.key)
        #expect(missing.contains("provider.issuer") && missing.contains("provider.clientID"))
        #expect(await problems(#"{"provider": {"type": "oidc", "issuer": "not a url", "clientID": "c"}}"#).map(\.key) == ["provider.issuer"])
        #expect(
            await problems(#"{"provider": {"type": "oidc", "issuer": "https://i/", "clientID": "c", "scopes": "openid"}}"#).map(\.key) == ["provider.scopes"]
        )
        let loaded = try await load(#"{"provider": {"type": "oidc", "issuer": "https://idp.example/", "clientID": "c", "scopes": ["email"]}}"#)
        let client = try #require(loaded.configuration.provider.openIDConnect)
        #expect(client.issuer == "https://idp.example/")
        #expect(client.scopes == ["openid", "email"])
        #expect(client.clientSecret == nil)
        let secret = await problems(#"{"provider": {"type": "oidc", "issuer": "https://i", "clientID": "c", "clientSecret": "env:UNSET_SECRET_VAR"}}"#)
        #expect(secret.map(\.key) == ["provider.clientSecret"])
    }

    @Test("config.example.json loads with every key honoured")
    func exampleFile() async throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config.example.json").path
        let loaded = try await ConfigurationLoader.load(.init(environment: environment, file: path))
        let configuration = loaded.configuration
        #expect(loaded.warnings.isEmpty)
        #expect(configuration.publicURL == "http://localhost:8080")
        #expect(configuration.listen == .init(host: "127.0.0.1", port: 8080))
        #expect(configuration.provider.kind == .loginRadius)
        #expect(configuration.provider.apiKey == "key-123")
        #expect(configuration.provider.apiSecret == "secret-456")
        #expect(configuration.provider.hostedPageURL == "https://my-app.hub.loginradius.com/auth.aspx")
        #expect(configuration.provider.apiURL == "https://api.loginradius.com")
        #expect(configuration.provider.timeout == .seconds(5))
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
    func defaults() async throws {
        let configuration = try await load(#"{"provider": {"appName": "acme", "apiKey": "k"}}"#).configuration
        #expect(configuration.provider.hostedPageURL == "https://acme.hub.loginradius.com/auth.aspx")
        #expect(configuration.provider.apiURL == "https://api.loginradius.com")
        #expect(configuration.provider.timeout == .seconds(5))
        #expect(configuration.sessions.store == .sqlite)
        #expect(configuration.sessions.keyFile == "gatehouse-sessions.sqlite.key")
        #expect(configuration.sessions.lifetime.revalidateAfter == 30)
        #expect(configuration.publicURL == "http://127.0.0.1:8080")
        #expect(configuration.sessions.secureCookies == false, "plain-HTTP public URL defaults to non-Secure cookies")
    }

    @Test("hostedPageURL and apiURL can point anywhere; trailing slashes are trimmed")
    func overrides() async throws {
        let configuration = try await load(
            #"{"publicURL": "https://login.example.com/", "provider": {"apiKey": "k", "hostedPageURL": "http://127.0.0.1:9000/auth.aspx", "apiURL": "http://127.0.0.1:9000/"}}"#
        ).configuration
        #expect(configuration.publicURL == "https://login.example.com")
        #expect(configuration.provider.hostedPageURL == "http://127.0.0.1:9000/auth.aspx")
        #expect(configuration.provider.apiURL == "http://127.0.0.1:9000")
        #expect(configuration.sessions.secureCookies == true)
    }

    @Test("an env: reference to a missing variable names the key and the variable")
    func missingEnvironmentVariable() async {
        let found = await problems(#"{"provider": {"appName": "a", "apiKey": "env:NOT_SET_ANYWHERE"}}"#)
        #expect(found.count == 1)
        #expect(found.first?.key == "provider.apiKey")
        #expect(found.first?.description.contains("NOT_SET_ANYWHERE") == true)
        #expect(found.first?.description.contains("export NOT_SET_ANYWHERE") == true)
    }

    @Test("bad JSON is one clear problem")
    func badJSON() async {
        let found = await problems(#"{"provider": {"apiKey": "k",}"#)
        #expect(found.count == 1)
        #expect(found.first?.message.contains("not valid JSON") == true)
    }

    @Test("an unknown store is refused with the list of stores")
    func unknownStore() async {
        let found = await problems(#"{"provider": {"appName": "a", "apiKey": "k"}, "sessions": {"store": "redis"}}"#)
        #expect(found.map(\.key) == ["sessions.store"])
        #expect(found.first?.fix.contains("memory, sqlite, postgres") == true)
    }

    @Test("missing apiKey and appName are both reported, at once")
    func missingKeys() async {
        let found = await problems(#"{"provider": {"type": "loginradius"}}"#)
        #expect(Set(found.map(\.key)) == ["provider.apiKey", "provider.appName"])
    }

    @Test("wrong types, ranges and redirect targets are problems with the key's name")
    func typeProblems() async {
        let found = await problems(
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
    func unknownProvider() async {
        #expect(await problems(#"{"provider": {"type": "okta"}}"#).map(\.key) == ["provider.type"])
    }

    @Test("unknown keys are warnings that suggest the right name")
    func unknownKeys() async throws {
        let loaded = try await load(#"{"provider": {"appName": "a", "apiKey": "k"}, "sessions": {"cookiename": "x"}}"#)
        #expect(loaded.warnings.map(\.key) == ["sessions.cookiename"])
        #expect(loaded.warnings.first?.fix.contains("cookieName") == true)
    }

    @Test("the mock provider needs no key and serves its page under the gateway")
    func mockProvider() async throws {
        let configuration = try await load(#"{"publicURL": "http://localhost:8080", "provider": {"type": "mock"}, "sessions": {"store": "memory"}}"#)
            .configuration
        #expect(configuration.provider.kind == .mock)
        #expect(configuration.provider.hostedPageURL == "http://localhost:8080/mock-idp/auth.aspx")
        #expect(configuration.sessions.store == .memory)
    }

    @Test("the postgres store needs a postgres:// URL and a shared encryption key")
    func postgresStore() async throws {
        #expect(
            Set(await problems(#"{"provider": {"type": "mock"}, "sessions": {"store": "postgres"}}"#).map(\.key)) == [
                "sessions.postgresURL", "sessions.encryptionKey",
            ]
        )
        let key = Data(repeating: 2, count: 32).base64EncodedString()
        #expect(
            await problems(#"{"provider": {"type": "mock"}, "sessions": {"store": "postgres", "postgresURL": "mysql://x", "encryptionKey": "\#(key)"}}"#)
                .map(\.key) == ["sessions.postgresURL"]
        )
        let configuration = try await load(
            #"{"provider": {"type": "mock"}, "sessions": {"store": "postgres", "postgresURL": "env:PG", "encryptionKey": "\#(key)"}}"#,
            environment: ["PG": "postgres://u:p%40ss@db.internal:6543/gatehouse?sslmode=require"]
        ).configuration
        #expect(configuration.sessions.store == .postgres)
        #expect(configuration.sessions.postgresURL == "postgres://u:p%40ss@db.internal:6543/gatehouse?sslmode=require")
        let withPassword = await problems(#"{"provider": {"type": "mock"}, "sessions": {"store": "postgres", "postgresURL": "postgres://u:hunter2@h/db"}}"#)
        #expect(!withPassword.description.contains("hunter2"))
    }

    @Test("encryptionKey must be 32 bytes of base64")
    func encryptionKey() async throws {
        let good = Data(repeating: 1, count: 32).base64EncodedString()
        let configuration = try await load(#"{"provider": {"type": "mock"}, "sessions": {"encryptionKey": "env:KEY"}}"#, environment: ["KEY": good])
            .configuration
        #expect(configuration.sessions.encryptionKey == Data(repeating: 1, count: 32))
        #expect(await problems(#"{"provider": {"type": "mock"}, "sessions": {"encryptionKey": "c2hvcnQ="}}"#).map(\.key) == ["sessions.encryptionKey"])
    }

    @Test("logLevel and listen.idleTimeoutSeconds are read; a bad level names the key")
    func logLevelAndIdleTimeout() async throws {
        let configuration = try await load(#"{"provider": {"type": "mock"}, "logLevel": "Debug", "listen": {"idleTimeoutSeconds": 12}}"#).configuration
        #expect(configuration.logLevel == .debug)
        #expect(configuration.listen.idleTimeout == .seconds(12))
        #expect(configuration.listen.limits.idleTimeout == .seconds(12))
        #expect(try await load(#"{"provider": {"type": "mock"}}"#).configuration.logLevel == .info)
        #expect(await problems(#"{"provider": {"type": "mock"}, "logLevel": "loud"}"#).map(\.key) == ["logLevel"])
        #expect(await problems(#"{"provider": {"type": "mock"}, "listen": {"idleTimeoutSeconds": 0}}"#).map(\.key) == ["listen.idleTimeoutSeconds"])
    }

    @Test("metrics are on beside the gateway by default; metrics.listen moves them, metrics.enabled turns them off")
    func metrics() async throws {
        let defaults = try await load(#"{"provider": {"type": "mock"}}"#).configuration.metrics
        #expect(defaults == .init(enabled: true, listen: nil))
        let separate = try await load(#"{"provider": {"type": "mock"}, "metrics": {"listen": {"host": "0.0.0.0"}}}"#).configuration.metrics
        #expect(separate.listen == .init(host: "0.0.0.0", port: 9464))
        #expect(try await load(#"{"provider": {"type": "mock"}, "metrics": {"enabled": false}}"#).configuration.metrics.enabled == false)

        let clash = await problems(#"{"provider": {"type": "mock"}, "listen": {"port": 8080}, "metrics": {"listen": {"port": 8080}}}"#)
        #expect(clash.map(\.key) == ["metrics.listen"])
        let wrong = await problems(#"{"provider": {"type": "mock"}, "metrics": {"enabled": "yes", "listen": {"port": 70000, "host": ""}}}"#)
        #expect(wrong.map(\.key).sorted() == ["metrics.enabled", "metrics.listen.host", "metrics.listen.port"])
        #expect(wrong.first { $0.key == "metrics.listen.port" }?.fix.contains("metrics.listen.port") == true)
    }

    @Test("no problem message contains a secret value")
    func secretsNotEchoed() async {
        let found = await problems(#"{"provider": {"apiKey": 12345678, "apiSecret": "s3cr3t-value", "type": "nope"}}"#)
        #expect(!found.isEmpty)
        #expect(!found.map(\.description).joined().contains("s3cr3t-value"))
        #expect(!found.map(\.description).joined().contains("12345678"))
    }

    @Test("a missing file is a problem, not a crash")
    func missingFile() async {
        await #expect(throws: ConfigurationError.self) { try await ConfigurationLoader.load(.init(environment: [:], file: "/nonexistent/gatehouse.json")) }
    }
}
