import ArgumentParser
import Gatehouse
import Logging

/// `--log-level`, shared by the commands that run servers.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Least severe level logged: trace, debug, info, notice, warning, error, critical (default: the configuration's logLevel, else info).")
    var logLevel: Logger.Level?

    func makeLogger(label: String) -> Logger {
        // swift-log's stream format, written a line per system call (see LineLogHandler).
        LoggingSystem.bootstrap { label in LineLogHandler(label: label) }
        var logger = Logger(label: label)
        logger.logLevel = logLevel ?? .info
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
