import ArgumentParser
import Configuration
import Foundation
import Gatehouse

/// The configuration options `serve` and `check-config` share: the file, and the settings a flag
/// may set (above the environment and the file).
struct ConfigurationOptions: ParsableArguments {
    @Option(
        help: "The configuration file: JSON, or YAML for .yaml/.yml (see config.example.json). Optional when GATEHOUSE_* environment variables configure it."
    )
    var config: String?

    @Option(help: "Listen on this address (listen.host).")
    var host: String?

    @Option(help: "Listen on this port (listen.port).")
    var port: Int?

    @Option(name: .customLong("public-url"), help: "The address browsers use (publicURL).")
    var publicURL: String?

    @Option(name: .customLong("sessions-store"), help: "memory, sqlite or postgres (sessions.store).")
    var sessionsStore: String?

    /// The sources these options and the process's environment give, with `--log-level`'s value.
    func sources(logLevel: String? = nil) -> ConfigurationSources {
        var flags: [String: ConfigurationSources.Flag] = [:]
        if let host { flags["listen.host"] = .init("--host", .string(host)) }
        if let port { flags["listen.port"] = .init("--port", .int(port)) }
        if let publicURL { flags["publicURL"] = .init("--public-url", .string(publicURL)) }
        if let sessionsStore { flags["sessions.store"] = .init("--sessions-store", .string(sessionsStore)) }
        if let logLevel { flags["logLevel"] = .init("--log-level", .string(logLevel)) }
        return ConfigurationSources(flags: flags, file: config)
    }
}
