import ArgumentParser
import Configuration
import Foundation
import Gatehouse
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `gatehouse demo`: the gateway and the mock provider together, with zero configuration.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the gateway and the mock identity provider together on loopback, ready to click through."
    )

    /// The protocol the demo's gateway speaks to the mock.
    enum ProviderProtocol: String, ExpressibleByArgument, CaseIterable {
        /// LoginRadius's hosted page, handing back a token.
        case loginradius
        /// Standard OpenID Connect: code with PKCE, ID token, refresh, revocation, end session.
        case oidc
    }

    @Option(help: "The gateway's port.")
    var port: Int = 8080

    @Option(help: "The mock identity provider's port.")
    var idpPort: Int = 8090

    @Option(help: "How the gateway signs in at the mock: loginradius (its hosted page) or oidc (OpenID Connect).")
    var provider: ProviderProtocol = .loginradius

    @Option(
        name: .customLong("allow-groups"),
        help: "Let in only these groups (access.allowGroups, comma-separated): with admins, Grace Hopper is turned away and Ada Lovelace is not."
    )
    var allowGroups: String?

    @Option(help: "Put the gateway in front of the app at this URL (upstreams: every path not Gatehouse's own), to try reverse-proxy mode.")
    var upstream: String?

    @Option(help: "The fixture users file.")
    var fixtures: String = FixtureUsers.locateDefault()

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let (logger, _) = logging.makeLogger(label: "gatehouse.demo")
        let users: [[String: JSONValue]]
        do {
            users = try FixtureUsers.load(fromFile: fixtures)
        } catch {
            Console.error("gatehouse demo: \(error)")
            throw ExitCode.failure
        }
        let directory = MockDirectory(users: users)
        let host = "127.0.0.1"
        let idpURL = "http://\(host):\(idpPort)"
        let gatewayURL = "http://\(host):\(port)"
        // The demo's settings, read like any other configuration: they are its flags.
        var settings: [String: ConfigContent] = [
            "publicURL": .string(gatewayURL), "listen.host": .string(host), "listen.port": .int(port), "sessions.store": .string("memory"),
            "sessions.secureCookies": .bool(false),
        ].merging(providerSettings(idpURL: idpURL)) { $1 }
        if let allowGroups {
            settings["access.allowGroups"] = .stringArray(allowGroups.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        if let upstream {
            settings["upstreams.0.pathPrefix"] = .string("/")
            settings["upstreams.0.url"] = .string(upstream)
        }
        let configuration = try await ConfigurationLoader.load(
            ConfigurationSources(flags: settings.mapValues { .init("gatehouse demo", $0) }, environment: [:])
        ).configuration
        let people = await directory.users
        let openID = await MockOpenIDProvider(directory: directory)
        await openID.setIssuer(idpURL)
        let mock = await buildMockProviderApplication(directory: directory, openID: openID, host: host, port: idpPort, logger: logger)
        let banner = Self.banner(
            gatewayURL: gatewayURL,
            idpURL: idpURL,
            provider: provider,
            users: people,
            allowGroups: configuration.access.policy.sessionRule.allowGroups,
            upstream: upstream
        )
        let gateway = try await buildApplication(configuration: configuration, logger: logger) { _ in
            Console.out(banner)
        }
        let group = ServiceGroup(
            configuration: .init(services: [mock, gateway], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }

    private func providerSettings(idpURL: String) -> [String: ConfigContent] {
        switch provider {
        case .loginradius:
            [
                "provider.type": .string("loginradius"), "provider.appName": .string("demo"), "provider.apiKey": .string("demo-api-key"),
                "provider.hostedPageURL": .string(idpURL + "/auth.aspx"), "provider.apiURL": .string(idpURL),
            ]
        case .oidc:
            [
                "provider.type": .string("oidc"), "provider.issuer": .string(idpURL), "provider.clientID": .string(MockOpenIDProvider.Client.demo.id),
                "provider.clientSecret": .string(MockOpenIDProvider.Client.demo.secret ?? ""),
            ]
        }
    }

    static func banner(
        gatewayURL: String,
        idpURL: String,
        provider: ProviderProtocol,
        users: [UserProfile],
        allowGroups: Set<String>,
        upstream: String? = nil
    ) -> String {
        let logins = users.map { user in
            let roles = user.attributes["Roles"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return "    \(user.name ?? user.id) <\(user.email ?? "no email")>\(roles.isEmpty ? "" : "  groups: " + roles.joined(separator: ", "))"
        }.joined(separator: "\n")
        let rules = allowGroups.isEmpty ? "anyone who signs in" : "only the groups " + allowGroups.sorted().joined(separator: ", ")
        let front = upstream.map { "\n  In front of:            \($0) (every path but the gateway's own)" } ?? ""
        let idp =
            switch provider {
            case .loginradius: "\(idpURL)/auth.aspx (LoginRadius-compatible API at \(idpURL))"
            case .oidc: "\(idpURL) (OpenID Connect issuer; discovery at \(idpURL)/.well-known/openid-configuration)"
            }
        return """

            Gatehouse demo is running.
              Open this in a browser:  \(gatewayURL)/
              Mock identity provider:  \(idp)
              Sessions:                in memory (gone when you stop the demo)
              Who may enter:           \(rules)
              Metrics (Prometheus):    \(gatewayURL)/metrics\(front)
              Sign in as any fixture user (the mock asks no password), or register a new one:
            \(logins)

              Try: \(gatewayURL)/dashboard  then  \(gatewayURL)/logout
              Stop with Ctrl-C.

            """
    }
}
