import Configuration
import Foundation
import Synchronization

/// What a configuration type's `init(reader:)` reads its settings with: one section of the
/// configuration, over every source at once (``ConfigurationSources``).
///
/// A read returns the value or the default, and notes the setting and where it came from. A value
/// that is there but unusable is not thrown: it becomes a ``ConfigurationProblem`` naming the key,
/// its source and the fix, so one run reports every problem. A `hint` says what a setting should
/// be; the fix reads "set KEY to HINT". Secrets are read as secrets and shown as `<redacted>`.
public struct SettingsReader: Sendable {
    private let snapshot: ConfigSnapshotReader
    private let path: [String]
    let log: Log

    init(snapshot: ConfigSnapshotReader, log: Log, path: [String] = []) {
        (self.snapshot, self.log, self.path) = (snapshot, log, path)
    }

    /// The reader of the section `name` (`listen`, `provider`, …).
    public func scoped(to name: String) -> SettingsReader {
        SettingsReader(snapshot: snapshot.scoped(to: ConfigKey(name)), log: log, path: path + [name])
    }

    /// The dotted key of `name` in this section.
    public func key(_ name: String) -> String {
        (path + [name]).joined(separator: ".")
    }

    // MARK: - Values

    /// A string; `default` when no source sets it. `required`: a problem when none does.
    public func string(_ name: String, default value: String? = nil, secret: Bool = false, required: Bool = false, hint: String) -> String? {
        let found = read(name, default: value, secret: secret, expected: "a string", hint: hint) { snapshot.string(forKey: $0, isSecret: secret) }
        if found == nil, required, !isSet(name) { missing(name, hint: hint) }
        return found?.trimmingCharacters(in: .whitespaces)
    }

    /// A whole number within `range`.
    public func integer(_ name: String, default value: Int? = nil, in range: ClosedRange<Int>, hint: String) -> Int? {
        let number = read(name, default: value, expected: "a whole number", hint: hint) { snapshot.int(forKey: $0) }
        return number.map { checked($0, name, in: range, hint: hint) ? $0 : value } ?? nil
    }

    /// A number within `range`.
    public func number(_ name: String, default value: Double? = nil, in range: ClosedRange<Double>, hint: String) -> Double? {
        let number = read(name, default: value, expected: "a number", hint: hint) { snapshot.double(forKey: $0) }
        return number.map { checked($0, name, in: range, hint: hint) ? $0 : value } ?? nil
    }

    /// A number of seconds within `range`, as a duration.
    public func seconds(_ name: String, default value: Duration, in range: ClosedRange<Double>, hint: String) -> Duration {
        let seconds = Double(value.components.seconds) + Double(value.components.attoseconds) / 1e18
        return number(name, default: seconds, in: range, hint: hint).map { .milliseconds(Int64(($0 * 1000).rounded())) } ?? value
    }

    /// `true` or `false`.
    public func bool(_ name: String, default value: Bool? = nil, hint: String) -> Bool? {
        read(name, default: value, expected: "true or false", hint: hint) { snapshot.bool(forKey: $0) }
    }

    /// A list of strings: an array in the file, comma-separated in the environment.
    public func strings(_ name: String, default value: [String]? = nil, hint: String) -> [String]? {
        read(name, default: value, expected: "a list of strings", hint: hint) { snapshot.stringArray(forKey: $0) }
            .map { $0.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    /// One of `Choice`'s raw values, without regard to case; `nil` (and a problem) for another.
    public func choice<Choice: RawRepresentable & CaseIterable>(_ name: String, default value: Choice) -> Choice? where Choice.RawValue == String {
        let hint = "one of " + Choice.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = string(name, default: value.rawValue, hint: hint) else { return nil }
        guard let choice = Choice(rawValue: text.lowercased()) else {
            problem(name, "\"\(text.prefix(100))\" is not \(hint)", hint: hint)
            return nil
        }
        return choice
    }

    /// An absolute http(s) URL without query, fragment or user info; without a trailing slash
    /// unless `keepTrailingSlash` (an issuer is compared exactly); with a path only if `allowPath`.
    public func url(
        _ name: String,
        default value: String? = nil,
        allowPath: Bool,
        keepTrailingSlash: Bool = false,
        required: Bool = false,
        hint: String
    ) -> String? {
        guard let text = string(name, default: value, required: required, hint: hint), text != value else { return value }
        let url = URLComponents(string: text)
        let message: String? =
            if !["http", "https"].contains(url?.scheme?.lowercased() ?? ""), url?.host?.isEmpty != false {
                "must be an absolute http:// or https:// URL"
            } else if url?.query != nil || url?.fragment != nil || url?.user != nil || url?.password != nil {
                "must not have a query, fragment or user info"
            } else if !allowPath, !(url?.path.isEmpty ?? true || url?.path == "/") {
                "must not have a path (Gatehouse serves its routes at the root)"
            } else {
                nil
            }
        if let message {
            problem(name, message, hint: hint)
            return value
        }
        var trimmed = text
        while !keepTrailingSlash, trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    /// A list of sections (`routes` in the file is an array of objects; in the environment,
    /// `GATEHOUSE_ACCESS_ROUTES_0_PATH_PREFIX` and so on), each read by `item` from a reader scoped
    /// to its index. An item is there when it sets `presentKey`; the list ends at the first that does not.
    public func list<Item>(_ name: String, presentKey: String, hint: String, _ item: (SettingsReader) -> Item?) -> [Item] {
        let section = scoped(to: name)
        if log.readsTemplates {
            _ = item(section.scoped(to: "N"))
            return []
        }
        if log.opened.fileKeys.contains(key(name)) {
            problem(name, "must be a list of objects", hint: hint)
            return []
        }
        var items: [Item] = []
        for index in 0... {
            let entry = section.scoped(to: String(index))
            guard entry.isSet(presentKey) else { break }
            if let read = item(entry) { items.append(read) }
        }
        return items
    }

    /// Notes settings this configuration does not use as it stands (LoginRadius's keys with
    /// OpenID Connect, say): a file may hold them, and they are not read, so an `env:` reference
    /// in them need not resolve.
    public func declare(_ names: [String]) {
        for name in names { log.setting(key(name), value: "(not used)", source: .defaultValue) }
    }

    /// Whether any source sets `name` (or, for a section, anything in it).
    public func isSet(_ name: String) -> Bool {
        _ = snapshot.string(forKey: ConfigKey(name))
        let answered = log.takeEvent()?.providerResults.contains { result in
            guard case .success(let lookup) = result.result else { return true }
            return lookup.value != nil
        }
        return answered == true || log.opened.fileKeys.contains { $0 == key(name) || $0.hasPrefix(key(name) + ".") }
    }

    // MARK: - Problems

    /// Notes a problem with the setting `name`, whose fix is to set it to `hint`.
    public func problem(_ name: String, _ message: String, hint: String) {
        problem(name, message, fix: "set \(key(name)) to \(hint)")
    }

    /// Notes a problem with the setting `name` (its source is where its value came from).
    public func problem(_ name: String, _ message: String, fix: String) {
        log.problem(.init(key: key(name), message: message, fix: fix, source: log.source(of: key(name))))
    }

    /// Notes that the setting `name` is required and no source sets it.
    public func missing(_ name: String, _ message: String = "is required", hint: String) {
        let places = "no flag, environment variable (\(ConfigurationSources.environmentVariable(for: key(name)))) or file sets it"
        log.problem(.init(key: key(name), message: "\(message), and \(places)", fix: "set \(key(name)) to \(hint)"))
    }

    /// Notes something that works but is probably not meant.
    public func warning(_ name: String, _ message: String, fix: String) {
        log.warning(.init(key: key(name), message: message, fix: fix, source: log.source(of: key(name))))
    }

    // MARK: - Reading

    private func checked<Number: Comparable>(_ number: Number, _ name: String, in range: ClosedRange<Number>, hint: String) -> Bool {
        if !range.contains(number) {
            problem(name, "must be between \(Self.display(range.lowerBound)) and \(Self.display(range.upperBound)), not \(Self.display(number))", hint: hint)
        }
        return range.contains(number)
    }

    /// Looks `name` up, notes the setting and its source, and turns an unusable value into a problem.
    private func read<Value>(_ name: String, default value: Value?, secret: Bool = false, expected: String, hint: String, _ lookup: (ConfigKey) -> Value?)
        -> Value?
    {
        let (key, found) = (key(name), lookup(ConfigKey(name)))
        let event = log.takeEvent()
        let source = log.source(of: event)
        if let found {
            log.setting(key, value: secret ? "<redacted>" : Self.display(found), source: source ?? .defaultValue)
            return found
        }
        guard let error = event.flatMap(Self.failure(in:)) else {
            log.setting(key, value: value.map { secret ? "<redacted>" : Self.display($0) } ?? "(none)", source: .defaultValue)
            return value
        }
        log.setting(key, value: "(unusable)", source: source ?? .defaultValue)
        if let unset = error as? ConfigurationFileSnapshot.UnsetVariable {
            let fix = "export \(unset.variable)=... before starting Gatehouse, or put the value in the file"
            log.problem(.init(key: key, message: "refers to the environment variable \(unset.variable), which is not set", fix: fix, source: source))
        } else {
            log.problem(.init(key: key, message: "must be \(expected)", fix: "set \(key) to \(hint)", source: source))
        }
        return value
    }

    /// The error of the first provider that failed an access, or the conversion's.
    private static func failure(in event: AccessEvent) -> (any Error)? {
        for result in event.providerResults {
            switch result.result {
            case .failure(let error): return error
            case .success(let lookup) where lookup.value != nil: return event.conversionError
            case .success: continue
            }
        }
        return event.conversionError
    }

    private static func display(_ value: Any) -> String {
        switch value {
        case let text as String: "\"\(text)\""
        case let list as [String]: "[" + list.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        case let number as Double where number.rounded() == number && abs(number) < 1e15: String(Int64(number))
        default: "\(value)"
        }
    }
}
