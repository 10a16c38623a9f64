import Foundation

/// The mock provider's users, read from a fixture file: `{"users": [profile, ...]}` where each
/// profile is a LoginRadius profile object with at least a `Uid`.
public enum FixtureUsers {
    /// The fixture file used when none is named, relative to the repository root.
    public static let defaultPath = "Fixtures/users.json"

    /// Where the default fixture file is: in the working directory, else in the repository the running
    /// binary was built in (found by walking up from the executable), so `gatehouse demo` works from
    /// any directory.
    public static func locateDefault(executable: String = CommandLine.arguments.first ?? "") -> String {
        if FileManager.default.fileExists(atPath: defaultPath) { return defaultPath }
        var directory = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" && !directory.path.isEmpty {
            let candidate = directory.appendingPathComponent(defaultPath).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return defaultPath
    }

    /// Why a fixture file cannot be used.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    public static func load(fromFile path: String) throws -> [[String: JSONValue]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Problem(description: "the fixture file \(path) cannot be read; run from the repository root or pass --fixtures FILE")
        }
        guard let document = try? JSONValue(parsing: data) else {
            throw Problem(description: "the fixture file \(path) is not valid JSON")
        }
        guard let users = document["users"]?.arrayValue else {
            throw Problem(description: "the fixture file \(path) must be an object with a \"users\" array")
        }
        return try users.enumerated().map { index, user in
            guard let profile = user.objectValue, UserProfile(loginRadiusProfile: profile) != nil else {
                throw Problem(description: "user \(index) in \(path) is not a profile object with a Uid")
            }
            return profile
        }
    }
}
