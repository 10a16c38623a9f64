import Foundation

/// A user as the provider describes them: the few fields the gateway relies on, plus the
/// provider's whole profile object, passed on as it came.
public struct UserProfile: Sendable, Equatable, Codable {
    /// The provider's stable user id.
    public let id: String
    /// The primary email address, when the profile has one.
    public let email: String?
    /// A display name, when the profile has one.
    public let name: String?
    /// The provider's profile object, unmodified.
    public let attributes: [String: JSONValue]

    public init(id: String, email: String?, name: String?, attributes: [String: JSONValue]) {
        self.id = id
        self.email = email
        self.name = name
        self.attributes = attributes
    }
}
