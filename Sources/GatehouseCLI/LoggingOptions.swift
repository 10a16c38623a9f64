import ArgumentParser
import Gatehouse
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// `--log-level`, shared by the commands that run servers.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Least severe level logged: trace, debug, info, notice, warning, error, critical (default: the configuration's logLevel, else info).")
    var logLevel: Logger.Level?

    func makeLogger(label: String) -> Logger {
        #if canImport(Glibc)
            // StreamLogHandler stamps every line with strftime, and glibc's strftime looks at
            // /etc/localtime again (a stat per line) unless TZ names the zone. Naming the same file
            // keeps the same zone and saves the system call on every request's log line.
            if getenv("TZ") == nil { setenv("TZ", ":/etc/localtime", 0) }
        #endif
        LoggingSystem.bootstrap { label in LineLogHandler(label: label) }
        var logger = Logger(label: label)
        logger.logLevel = logLevel ?? .info
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
