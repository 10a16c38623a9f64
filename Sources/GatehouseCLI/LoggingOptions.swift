import ArgumentParser
import Logging

/// `--log-level`, shared by the commands that run servers.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Least severe level logged: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func makeLogger(label: String) -> Logger {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
