import Foundation

/// Reads typed values out of a JSON configuration, resolving `env:NAME` references and collecting
/// every problem instead of stopping at the first.
struct ConfigurationReader {
    /// One object of the file, with its dotted path.
    struct Section {
        let path: String
        let members: [String: JSONValue]

        func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
    }

    let environment: [String: String]
    private(set) var problems: [ConfigurationProblem] = []
    private(set) var warnings: [ConfigurationProblem] = []

    init(environment: [String: String]) {
        self.environment = environment
    }

    mutating func problem(_ key: String, _ message: String, fix: String) {
        problems.append(ConfigurationProblem(key: key, message: message, fix: fix))
    }

    mutating func warning(_ key: String, _ message: String, fix: String) {
        warnings.append(ConfigurationProblem(key: key, message: message, fix: fix))
    }

    /// The object under `name`, warning about members that are not in `known`; empty when absent.
    mutating func section(_ name: String, in parent: Section, known: Set<String>) -> Section {
        let key = parent.key(name)
        guard let value = parent.members[name] else { return Section(path: key, members: [:]) }
        guard let members = value.objectValue else {
            problem(key, "must be an object, not \(value.typeName)", fix: "write \(key) as { ... } as in config.example.json")
            return Section(path: key, members: [:])
        }
        let section = Section(path: key, members: members)
        warnUnknown(in: section, known: known)
        return section
    }

    mutating func warnUnknown(in section: Section, known: Set<String>) {
        for name in section.members.keys.sorted() where !known.contains(name) {
            let suggestion = known.first { $0.lowercased() == name.lowercased() }.map { "did you mean \"\($0)\"? " } ?? ""
            warning(section.key(name), "is not a Gatehouse setting and is ignored", fix: "\(suggestion)remove it or correct its name")
        }
    }

    /// A string, with `env:NAME` read from the environment. `nil` when absent or wrong.
    mutating func string(_ name: String, in section: Section, fix: String) -> String? {
        let key = section.key(name)
        guard let value = section.members[name], value != .null else { return nil }
        guard let text = value.stringValue else {
            problem(key, "must be a string, not \(value.typeName)", fix: fix)
            return nil
        }
        guard text.hasPrefix("env:") else { return text }
        let variable = String(text.dropFirst(4))
        guard !variable.isEmpty else {
            problem(key, "names no environment variable after env:", fix: "write env:NAME with the variable's name")
            return nil
        }
        guard let resolved = environment[variable], !resolved.isEmpty else {
            problem(
                key,
                "refers to the environment variable \(variable), which is not set",
                fix: "export \(variable)=... before starting Gatehouse, or put the value in the file"
            )
            return nil
        }
        return resolved
    }

    /// A number within `range`. `nil` when absent or wrong.
    mutating func number(_ name: String, in section: Section, range: ClosedRange<Double>, fix: String) -> Double? {
        let key = section.key(name)
        guard let value = section.members[name], value != .null else { return nil }
        var number = value.doubleValue
        if number == nil, let text = string(name, in: section, fix: fix) {
            number = Double(text)
            if number == nil {
                problem(key, "must be a number", fix: fix)
                return nil
            }
        }
        guard let number else { return nil }
        guard range.contains(number) else {
            problem(key, "must be between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound)), not \(Self.format(number))", fix: fix)
            return nil
        }
        return number
    }

    /// A whole number within `range`. `nil` when absent or wrong.
    mutating func integer(_ name: String, in section: Section, range: ClosedRange<Int>, fix: String) -> Int? {
        guard let number = number(name, in: section, range: Double(range.lowerBound)...Double(range.upperBound), fix: fix) else { return nil }
        guard number.rounded() == number else {
            problem(section.key(name), "must be a whole number", fix: fix)
            return nil
        }
        return Int(number)
    }

    /// A boolean. `nil` when absent or wrong.
    mutating func bool(_ name: String, in section: Section, fix: String) -> Bool? {
        guard let value = section.members[name], value != .null else { return nil }
        if case .bool(let flag) = value { return flag }
        problem(section.key(name), "must be true or false, not \(value.typeName)", fix: fix)
        return nil
    }

    /// An array of strings (each may be an `env:` reference). `nil` when absent or wrong.
    mutating func stringArray(_ name: String, in section: Section, fix: String) -> [String]? {
        guard let value = section.members[name], value != .null else { return nil }
        guard let elements = value.arrayValue, elements.allSatisfy({ $0.stringValue?.isEmpty == false }) else {
            problem(section.key(name), "must be a list of non-empty strings", fix: fix)
            return nil
        }
        return elements.compactMap(\.stringValue)
    }

    /// An absolute http(s) URL without query or fragment, trailing slash removed unless
    /// `keepTrailingSlash` (an issuer is compared exactly). `nil` when absent or wrong.
    mutating func url(_ name: String, in section: Section, allowPath: Bool, keepTrailingSlash: Bool = false, fix: String) -> String? {
        guard let text = string(name, in: section, fix: fix) else { return nil }
        let key = section.key(name)
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", components.host?.isEmpty == false
        else {
            problem(key, "must be an absolute http:// or https:// URL", fix: fix)
            return nil
        }
        guard components.query == nil, components.fragment == nil, components.user == nil, components.password == nil else {
            problem(key, "must not have a query, fragment or user info", fix: fix)
            return nil
        }
        if !allowPath, !(components.path.isEmpty || components.path == "/") {
            problem(key, "must not have a path (Gatehouse serves its routes at the root)", fix: fix)
            return nil
        }
        var trimmed = text
        while !keepTrailingSlash, trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    private static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}
