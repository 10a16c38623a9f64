import ArgumentParser
import Foundation
import Gatehouse
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `gatehouse serve [--config FILE]`: run the gateway.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway, configured by flags, GATEHOUSE_* environment variables and the --config file."
    )

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "Fixture users for provider.type mock.")
    var fixtures: String = FixtureUsers.locateDefault()

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let sources = options.sources(logLevel: logging.logLevel?.rawValue)
        let loaded: LoadedConfiguration
        do {
            loaded = try await ConfigurationLoader.load(sources)
        } catch {
            Console.error("gatehouse: the configuration (\(options.config ?? "environment and flags")) cannot be used:")
            for problem in error.problems { Console.error("  \(problem)") }
            throw ExitCode.failure
        }
        let configuration = loaded.configuration
        let (logger, level) = logging.makeLogger(label: "gatehouse", fallback: configuration.logLevel)
        for warning in loaded.warnings { logger.warning("Configuration: \(warning)") }
        let mockUsers = configuration.provider.kind == .mock ? try loadFixtures() : []
        let listen = configuration.listen
        let publicURL = configuration.publicURL
        let live = LiveSettings(configuration: configuration, logLevel: level)
        let reloader = ConfigurationReloader(sources: sources, loaded: loaded, live: live, logger: logger)

        let app: any ApplicationProtocol
        do {
            app = try await buildApplication(configuration: configuration, mockUsers: mockUsers, live: live, logger: logger) { channel in
                let port = channel.localAddress?.port ?? listen.port
                Console.out("Gatehouse is listening on http://\(listen.host):\(port) (public URL \(publicURL))")
            }
        } catch {
            Console.error("gatehouse: cannot start: \(error)")
            throw ExitCode.failure
        }
        // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (for at most the grace
        // period), then close the store and the HTTP client in order. A second signal cannot
        // shorten the grace period, but the period itself is bounded. SIGHUP reloads.
        // Services stop in reverse order: the announcement comes first.
        let announcer = ShutdownAnnouncement(logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(
            services: [app, reloader, announcer],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
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
