import ArgumentParser
import Gatehouse
import Logging

/// `--log-level`, shared by the commands that run servers.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Least severe level logged: trace, debug, info, notice, warning, error, critical (default: the configuration's logLevel, else info).")
    var logLevel: Logger.Level?

    /// Sets the process's logging up and returns a logger at `level` (the option's, else `fallback`),
    /// with the level every handler shares, for a reload to change.
    func makeLogger(label: String, fallback: Logger.Level = .info) -> (Logger, level: Reloadable<Logger.Level>) {
        let level = Reloadable(logLevel ?? fallback)
        // swift-log's stream format, written a line per system call (see LineLogHandler).
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: level) }
        return (Logger(label: label), level)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
