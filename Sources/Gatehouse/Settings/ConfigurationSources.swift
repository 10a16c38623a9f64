import Configuration
import Foundation
import SystemPackage

/// Where the configuration comes from, highest first: the command line's flags, `GATEHOUSE_*`
/// environment variables, the configuration file, then each setting's default.
///
/// Every key has one name in all of them: `sessions.store` is `--sessions-store` (for the keys a
/// command offers), `GATEHOUSE_SESSIONS_STORE` and `sessions.store` in the file.
public struct ConfigurationSources: Sendable {
    /// A setting given on the command line.
    public struct Flag: Sendable {
        /// The flag as typed, e.g. `--port`.
        public var name: String
        public var value: ConfigContent

        public init(_ name: String, _ value: ConfigContent) {
            self.name = name
            self.value = value
        }
    }

    /// The flags the command was given, by the key each sets (`["listen.port": .init("--port", .int(9000))]`).
    public var flags: [String: Flag]
    public var environment: [String: String]
    /// The `--config` file, JSON or YAML; `nil` to configure from flags and the environment alone.
    public var file: String?

    public init(flags: [String: Flag] = [:], environment: [String: String] = ProcessInfo.processInfo.environment, file: String? = nil) {
        self.flags = flags
        self.environment = environment
        self.file = file
    }

    /// The environment variable that sets `key`: `GATEHOUSE_` and the key path in upper snake case.
    public static func environmentVariable(for key: String) -> String {
        let provider = EnvironmentVariablesProvider(environmentVariables: [:]).prefixKeys(with: "gatehouse")
        return (try? provider.value(forKey: AbsoluteConfigKey(ConfigKey(key)), type: .string).encodedKey) ?? key
    }

    /// The sources opened: the providers in precedence order, and what names each.
    struct Opened {
        let providers: [any ConfigProvider]
        let flagsName: String
        let environmentName: String
        let fileName: String?
        /// The keys the file sets, for warnings about those no setting reads.
        let fileKeys: [String]
    }

    /// Opens the file, if any, and lines the providers up.
    func open() async throws(ConfigurationError) -> Opened {
        let flags = InMemoryProvider(
            name: "flags",
            values: Dictionary(uniqueKeysWithValues: flags.map { (AbsoluteConfigKey(ConfigKey($0.key)), ConfigValue($0.value.value, isSecret: false)) })
        )
        let environment = EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "gatehouse")
        var providers: [any ConfigProvider] = [flags, environment]
        var fileName: String?
        var fileKeys: [String] = []
        if let path = file {
            guard FileManager.default.fileExists(atPath: path) else {
                throw ConfigurationError(problems: [
                    .init(
                        key: "",
                        message: "the configuration file \(path) does not exist",
                        fix: "pass --config with the path of a file like config.example.json"
                    )
                ])
            }
            do {
                let provider = try await FileProvider<ConfigurationFileSnapshot>(
                    parsingOptions: .init(format: .init(path: path), environment: self.environment),
                    filePath: FilePath(path)
                )
                fileName = provider.providerName
                fileKeys = (provider.snapshot() as? ConfigurationFileSnapshot)?.keys ?? []
                providers.append(provider)
            } catch let error as ConfigurationFileSnapshot.Unreadable {
                throw ConfigurationError(problems: [
                    .init(
                        key: "",
                        message: "the configuration file \(path) is \(error.description)",
                        fix: "correct its syntax; config.example.json shows the shape"
                    )
                ])
            } catch {
                throw ConfigurationError(problems: [.init(key: "", message: "the configuration file \(path) cannot be read", fix: "check its permissions")])
            }
        }
        return Opened(
            providers: providers,
            flagsName: flags.providerName,
            environmentName: environment.providerName,
            fileName: fileName,
            fileKeys: fileKeys
        )
    }
}
