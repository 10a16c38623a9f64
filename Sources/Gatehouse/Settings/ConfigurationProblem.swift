/// Where a setting's value came from.
public enum ConfigurationSource: Sendable, Equatable, CustomStringConvertible {
    /// A command-line flag, e.g. `--sessions-store`.
    case flag(String)
    /// An environment variable, e.g. `GATEHOUSE_SESSIONS_STORE`.
    case environment(String)
    /// The configuration file, directly or through an `env:NAME` reference.
    case file(path: String, variable: String?)
    /// The setting's default.
    case defaultValue

    public var description: String {
        switch self {
        case .flag(let flag): "flag \(flag)"
        case .environment(let name): "environment variable \(name)"
        case .file(let path, nil): "file \(path)"
        case .file(let path, let variable?): "file \(path), via env:\(variable)"
        case .defaultValue: "default"
        }
    }
}

/// One thing wrong with a configuration: the key, where its value came from, what is wrong, and
/// how to fix it.
public struct ConfigurationProblem: Sendable, Equatable, CustomStringConvertible {
    /// The dotted key, e.g. `provider.apiKey`; empty for the configuration as a whole.
    public let key: String
    public let message: String
    public let fix: String
    /// Where the offending value came from; `nil` for a setting that is missing everywhere.
    public let source: ConfigurationSource?

    public init(key: String, message: String, fix: String, source: ConfigurationSource? = nil) {
        self.key = key
        self.message = message
        self.fix = fix
        self.source = source
    }

    public var description: String {
        let subject = key.isEmpty ? "" : "\(key): "
        let origin = source.map { " (from \($0))" } ?? ""
        return "\(subject)\(message)\(origin). Fix: \(fix)"
    }
}

/// A configuration that cannot be used, with every problem found (not just the first).
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let problems: [ConfigurationProblem]

    public init(problems: [ConfigurationProblem]) {
        self.problems = problems
    }

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}

/// One setting as the gateway runs with it: its value (redacted for secrets) and its source.
public struct ConfigurationSetting: Sendable, Equatable, CustomStringConvertible {
    public let key: String
    /// The value as `check-config` shows it: JSON-like, `<redacted>` for a secret, `(none)` when unset.
    public let value: String
    public let source: ConfigurationSource

    public var description: String { "\(key) = \(value)  (\(source))" }
}

/// A usable configuration, what looked odd about it, and where each setting came from.
public struct LoadedConfiguration: Sendable {
    public let configuration: GatehouseConfiguration
    /// Things that do not stop the gateway but probably should be changed (unknown keys, say).
    public let warnings: [ConfigurationProblem]
    /// Every setting read, in the order read.
    public let settings: [ConfigurationSetting]
}
