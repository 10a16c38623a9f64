import ArgumentParser
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

    @Option(help: "The gateway's port.")
    var port: Int = 8080

    @Option(help: "The mock identity provider's port.")
    var idpPort: Int = 8090

    @Option(help: "The fixture users file.")
    var fixtures: String = FixtureUsers.locateDefault()

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = logging.makeLogger(label: "gatehouse.demo")
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
        let configuration = GatehouseConfiguration(
            publicURL: gatewayURL,
            listen: .init(host: host, port: port),
            provider: .init(
                kind: .loginRadius,
                appName: "demo",
                apiKey: "demo-api-key",
                hostedPageURL: idpURL + "/auth.aspx",
                apiURL: idpURL,
                timeoutSeconds: 5
            ),
            sessions: .init(store: .memory, secureCookies: false),
            redirects: .init()
        )
        let people = await directory.users
        let mock = buildMockProviderApplication(directory: directory, host: host, port: idpPort, logger: logger)
        let gateway = try await buildApplication(configuration: configuration, logger: logger) { _ in
            Console.out(Self.banner(gatewayURL: gatewayURL, idpURL: idpURL, users: people))
        }
        let group = ServiceGroup(
            configuration: .init(services: [mock, gateway], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }

    static func banner(gatewayURL: String, idpURL: String, users: [UserProfile]) -> String {
        let logins = users.map { "    \($0.name ?? $0.id) <\($0.email ?? "no email")>" }.joined(separator: "\n")
        return """

            Gatehouse demo is running.
              Open this in a browser:  \(gatewayURL)/
              Mock identity provider:  \(idpURL)/auth.aspx (LoginRadius-compatible API at \(idpURL))
              Sessions:                in memory (gone when you stop the demo)
              Metrics (Prometheus):    \(gatewayURL)/metrics

              Sign in as any fixture user (the mock asks no password), or register a new one:
            \(logins)

              Try: \(gatewayURL)/dashboard  then  \(gatewayURL)/logout
              Stop with Ctrl-C.

            """
    }
}
