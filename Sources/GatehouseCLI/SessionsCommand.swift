import ArgumentParser
import Gatehouse
import Logging

/// `gatehouse sessions revoke|stats`: the session store, seen and changed from outside the
/// gateways that serve it (same configuration as `serve`).
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "Manage the sessions in the configured store (sqlite or postgres), while gateways run.",
        subcommands: [Revoke.self, Stats.self]
    )

    /// `gatehouse sessions revoke --user ID`.
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End every session of a user, in every browser and on every gateway, within milliseconds."
        )

        @OptionGroup var options: ConfigurationOptions

        @Option(help: "The user's id at the provider (X-Auth-Request-User, the dashboard's user.id).")
        var user: String

        func run() async throws {
            let user = self.user
            let ended = try await SessionsCommand.withSessions(options) { sessions in try await sessions.endAll(ofUser: user) }
            Console.out("Ended \(ended) session\(ended == 1 ? "" : "s") of user \(user).")
        }
    }

    /// `gatehouse sessions stats`.
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print how many sessions the store holds, how many are live, and for how many users.")

        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            let statistics = try await SessionsCommand.withSessions(options) { sessions in try await sessions.statistics() }
            Console.out("sessions stored: \(statistics.stored)")
            Console.out("sessions live: \(statistics.live)")
            Console.out("users with a live session: \(statistics.liveUsers)")
        }
    }

    /// Loads the configuration and runs `body` on its store; every failure is one clear line and exit 1.
    static func withSessions<Result: Sendable>(
        _ options: ConfigurationOptions,
        _ body: @escaping @Sendable (SessionManager) async throws -> Result
    ) async throws -> Result {
        let configuration: GatehouseConfiguration
        do {
            configuration = try await ConfigurationLoader.load(options.sources()).configuration
        } catch {
            Console.error("gatehouse: the configuration (\(options.config ?? "environment and flags")) cannot be used:")
            for problem in error.problems { Console.error("  \(problem)") }
            throw ExitCode.failure
        }
        var logger = Logger(label: "gatehouse")
        logger.logLevel = .error
        do {
            return try await SessionAdministration.withSessions(configuration, logger: logger, body)
        } catch let error as SessionAdministration.Unreachable {
            Console.error("gatehouse: \(error)")
        } catch let error as StartupError {
            Console.error("gatehouse: \(error)")
        } catch let error as SessionKeyFile.Problem {
            Console.error("gatehouse: \(error)")
        } catch {
            Console.error("gatehouse: the session store (\(configuration.sessions.store.rawValue)) failed: \(type(of: error))")
        }
        throw ExitCode.failure
    }
}
