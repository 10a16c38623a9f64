import Configuration
import Foundation
import Yams

/// The configuration file as swift-configuration reads it: JSON, or YAML for `.yaml`/`.yml`.
///
/// The library's JSON snapshot does the reading. What it does not do is done here first: YAML
/// is converted to JSON, arrays of objects (`access.routes`, `upstreams`) become objects keyed by
/// index (`routes.0.pathPrefix`), since the snapshot only takes arrays of scalars, and a string
/// `env:NAME` is read from the environment variable NAME, as earlier releases did.
public struct ConfigurationFileSnapshot: FileConfigSnapshot {
    /// The file's format and the environment its `env:` references are read from.
    public struct ParsingOptions: FileParsingOptions {
        public enum Format: Sendable {
            case json, yaml

            /// YAML for a `.yaml` or `.yml` path, else JSON.
            public init(path: String) {
                let lowered = path.lowercased()
                self = lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml") ? .yaml : .json
            }
        }

        public var format: Format
        public var environment: [String: String]

        public init(format: Format = .json, environment: [String: String] = ProcessInfo.processInfo.environment) {
            self.format = format
            self.environment = environment
        }

        public static var `default`: Self { .init() }
    }

    /// A file value `env:NAME` whose variable is not set.
    public struct UnsetVariable: Error, CustomStringConvertible {
        public let variable: String
        public var description: String { "the environment variable \(variable) is not set" }
    }

    /// The file is not a configuration: not JSON (or YAML), or not an object at the top.
    public struct Unreadable: Error, CustomStringConvertible {
        public let description: String
    }

    public let providerName: String
    /// Every key the file sets, dotted (`sessions.store`, `access.routes.0.pathPrefix`).
    public let keys: [String]
    private let values: JSONSnapshot
    private let environment: [String: String]

    public init(data: RawSpan, providerName: String, parsingOptions: ParsingOptions) throws {
        let text = data.withUnsafeBytes { Data($0) }
        let tree: Any
        switch parsingOptions.format {
        case .json:
            do {
                tree = try JSONSerialization.jsonObject(with: text)
            } catch {
                throw Unreadable(description: "not valid JSON (\((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? "unreadable"))")
            }
        case .yaml:
            do {
                tree = try Yams.load(yaml: String(decoding: text, as: UTF8.self)) ?? [String: Any]()
            } catch {
                throw Unreadable(description: "not valid YAML (\(error))")
            }
        }
        guard let object = Self.normalized(tree) as? [String: Any] else {
            throw Unreadable(description: "not an object of settings at the top level")
        }
        var keys: [String] = []
        Self.collectKeys(object, prefix: "", into: &keys)
        self.keys = keys.sorted()
        self.providerName = providerName
        self.environment = parsingOptions.environment
        let json = try JSONSerialization.data(withJSONObject: object)
        self.values = try JSONSnapshot(data: json.bytes, providerName: providerName, parsingOptions: .default)
    }

    public func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        // A reference `env:NAME` is read as the variable's text, parsed the way the environment's
        // own provider parses it (ints, bools, comma-separated lists).
        if let raw = try? values.value(forKey: key, type: .string), case .string(let text)? = raw.value?.content, text.hasPrefix("env:") {
            let variable = String(text.dropFirst(4))
            guard !variable.isEmpty, let value = environment[variable] else { throw UnsetVariable(variable: variable.isEmpty ? "(none)" : variable) }
            let parsed = try EnvironmentVariablesProvider(environmentVariables: ["VALUE": value]).value(forKey: ["VALUE"], type: type)
            return LookupResult(encodedKey: "\(raw.encodedKey) (env:\(variable))", value: parsed.value)
        }
        return try values.value(forKey: key, type: type)
    }

    public var description: String { providerName }
    public var debugDescription: String { "\(providerName)[\(keys.count) keys]" }

    /// The tree with YAML's types made JSON's and arrays of objects made objects keyed by index.
    private static func normalized(_ value: Any) -> Any {
        switch value {
        case let object as [String: Any]:
            return object.mapValues(normalized)
        case let object as [AnyHashable: Any]:
            return Dictionary(object.map { ("\($0.key)", normalized($0.value)) }, uniquingKeysWith: { first, _ in first })
        case let array as [Any] where array.contains(where: { $0 is [String: Any] || $0 is [AnyHashable: Any] }):
            return Dictionary(uniqueKeysWithValues: array.enumerated().map { (String($0.offset), normalized($0.element)) })
        case let array as [Any]:
            return array.map(normalized)
        case let date as Date:
            return ISO8601DateFormatter().string(from: date)
        case let data as Data:
            return data.base64EncodedString()
        case is String, is Bool, is Int, is Double, is NSNumber, is NSNull:
            return value
        default:
            return "\(value)"
        }
    }

    private static func collectKeys(_ object: [String: Any], prefix: String, into keys: inout [String]) {
        for (name, value) in object {
            let key = prefix.isEmpty ? name : "\(prefix).\(name)"
            if let nested = value as? [String: Any] {
                collectKeys(nested, prefix: key, into: &keys)
            } else {
                keys.append(key)
            }
        }
    }
}
