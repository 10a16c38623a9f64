import ArgumentParser
import Gatehouse

/// `gatehouse check-config --config FILE`: validate without starting anything.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file: exit 0 when usable, else 1 with one line per problem."
    )

    @Option(help: "The JSON configuration file to check.")
    var config: String

    func run() throws {
        do {
            let loaded = try ConfigurationLoader.load(fromFile: config)
            for warning in loaded.warnings { Console.out("warning: \(warning)") }
            let configuration = loaded.configuration
            Console.out(
                "\(config): usable (provider \(configuration.provider.kind.rawValue), store \(configuration.sessions.store.rawValue), public URL \(configuration.publicURL))"
            )
        } catch {
            for problem in error.problems { Console.out("error: \(problem)") }
            throw ExitCode.failure
        }
    }
}
