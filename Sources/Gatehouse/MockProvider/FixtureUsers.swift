import Foundation

/// The mock provider's users, read from a fixture file: `{"users": [profile, ...]}` where each
/// profile is a LoginRadius profile object with at least a `Uid`.
public enum FixtureUsers {
    /// The fixture file used when none is named, relative to the repository root.
    public static let defaultPath = "Fixtures/users.json"

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
