import ArgumentParser
import Gatehouse

/// `gatehouse check-config [--config FILE]`: validate without starting anything, and show the
/// configuration in effect with where each setting came from.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration (file, environment, flags): exit 0 when usable, else 1 with one line per problem."
    )

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        do {
            let loaded = try await ConfigurationLoader.load(options.sources())
            for warning in loaded.warnings { Console.out("warning: \(warning)") }
            let configuration = loaded.configuration
            Console.out(
                "\(options.config ?? "the environment"): usable (provider \(configuration.provider.kind.rawValue), store \(configuration.sessions.store.rawValue), public URL \(configuration.publicURL))"
            )
            Console.out("Effective configuration (secrets <redacted>):")
            for setting in loaded.settings { Console.out("  \(setting)") }
        } catch {
            for problem in error.problems { Console.out("error: \(problem)") }
            throw ExitCode.failure
        }
    }
}
