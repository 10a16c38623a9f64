/// One thing wrong with a configuration: the key, what is wrong, and how to fix it.
public struct ConfigurationProblem: Sendable, Equatable, CustomStringConvertible {
    /// The dotted key, e.g. `provider.apiKey`; empty for the file as a whole.
    public let key: String
    public let message: String
    public let fix: String

    public init(key: String, message: String, fix: String) {
        self.key = key
        self.message = message
        self.fix = fix
    }

    public var description: String {
        let subject = key.isEmpty ? "" : "\(key): "
        return "\(subject)\(message). Fix: \(fix)"
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

/// A usable configuration, and what looked odd about it.
public struct LoadedConfiguration: Sendable {
    public let configuration: GatehouseConfiguration
    /// Things that do not stop the gateway but probably should be changed (unknown keys, say).
    public let warnings: [ConfigurationProblem]
}
