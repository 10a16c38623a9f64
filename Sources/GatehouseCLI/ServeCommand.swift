import ArgumentParser
import Foundation
import Gatehouse
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `gatehouse serve --config FILE`: run the gateway.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the gateway from a configuration file.")

    @Option(help: "The JSON configuration file (see config.example.json).")
    var config: String

    @Option(help: "Listen on this address instead of listen.host.")
    var host: String?

    @Option(help: "Listen on this port instead of listen.port.")
    var port: Int?

    @Option(help: "Fixture users for provider.type mock.")
    var fixtures: String = FixtureUsers.locateDefault()

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        var logger = logging.makeLogger(label: "gatehouse")
        var loaded: LoadedConfiguration
        do {
            loaded = try ConfigurationLoader.load(fromFile: config)
        } catch {
            Console.error("gatehouse: the configuration \(config) cannot be used:")
            for problem in error.problems { Console.error("  \(problem)") }
            throw ExitCode.failure
        }
        var configuration = loaded.configuration
        logger.logLevel = logging.logLevel ?? configuration.logLevel
        for warning in loaded.warnings { logger.warning("Configuration: \(warning)") }
        if let host { configuration.listen.host = host }
        if let port {
            guard (0...65535).contains(port) else {
                Console.error("gatehouse: --port must be between 0 and 65535")
                throw ExitCode.failure
            }
            configuration.listen.port = port
        }
        let mockUsers = configuration.provider.kind == .mock ? try loadFixtures() : []
        let listen = configuration.listen
        let publicURL = configuration.publicURL

        let app: any ApplicationProtocol
        do {
            app = try await buildApplication(configuration: configuration, mockUsers: mockUsers, logger: logger) { channel in
                let port = channel.localAddress?.port ?? listen.port
                Console.out("Gatehouse is listening on http://\(listen.host):\(port) (public URL \(publicURL))")
            }
        } catch {
            Console.error("gatehouse: cannot start: \(error)")
            throw ExitCode.failure
        }
        // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (for at most the grace
        // period), then close the store and the HTTP client in order. A second signal cannot
        // shorten the grace period, but the period itself is bounded.
        var groupConfiguration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(Self.shutdownGracePeriodSeconds)
        try await ServiceGroup(configuration: groupConfiguration).run()
        logger.info("Gatehouse stopped")
    }

    /// How long in-flight requests get to finish after SIGTERM before the rest is cancelled.
    static let shutdownGracePeriodSeconds: Int64 = 15

    private func loadFixtures() throws -> [[String: JSONValue]] {
        do {
            return try FixtureUsers.load(fromFile: fixtures)
        } catch {
            Console.error("gatehouse: \(error)")
            throw ExitCode.failure
        }
    }
}
