import Foundation

/// What access rules and identity headers read of a user: id, email and whether it is verified,
/// groups, and a username. Read from the profile the provider gave, by ``ProfileClaimNames``.
public struct AccessIdentity: Sendable, Equatable {
    public var userID: String
    public var email: String?
    /// What the provider says of the email: verified, not verified, or nothing (`nil`).
    public var emailVerified: Bool?
    public var groups: [String]
    public var preferredUsername: String?

    public init(userID: String, email: String?, emailVerified: Bool? = nil, groups: [String] = [], preferredUsername: String? = nil) {
        self.userID = userID
        self.email = email
        self.emailVerified = emailVerified
        self.groups = groups
        self.preferredUsername = preferredUsername
    }

    /// Reads `profile`'s object once. A claim that is missing or of another type reads as absent:
    /// no groups, nothing said of the email, no username.
    public init(profile: UserProfile, claims: ProfileClaimNames) {
        let members = (try? JSONValue(parsing: profile.json))?.objectValue ?? [:]
        self.init(
            userID: profile.id,
            email: profile.email,
            emailVerified: Self.flag(ProfileClaimNames.member(claims.emailVerified, of: members)),
            groups: Self.names(ProfileClaimNames.member(claims.groups, of: members)),
            preferredUsername: ProfileClaimNames.member(claims.preferredUsername, of: members)?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        )
    }

    /// `true` or `false`, or their text (some providers send strings); `nil` for anything else.
    private static func flag(_ value: JSONValue?) -> Bool? {
        switch value {
        case .bool(let flag)?: flag
        case .string(let text)? where text.lowercased() == "true": true
        case .string(let text)? where text.lowercased() == "false": false
        default: nil
        }
    }

    /// An array of names (other elements skipped), or one name.
    private static func names(_ value: JSONValue?) -> [String] {
        switch value {
        case .array(let elements)?: elements.compactMap(\.stringValue).filter { !$0.isEmpty }
        case .string(let name)? where !name.isEmpty: [name]
        default: []
        }
    }
}

/// Which members of a provider's profile hold the groups, the email's verification and the
/// username.
public struct ProfileClaimNames: Sendable, Equatable {
    /// A member name; when no member has it whole, a dotted path into nested objects
    /// (`realm_access.roles`). Names with dots (`https://example.com/roles`) work as they are.
    public var groups: String
    public var emailVerified: String
    public var preferredUsername: String

    public init(groups: String, emailVerified: String, preferredUsername: String) {
        self.groups = groups
        self.emailVerified = emailVerified
        self.preferredUsername = preferredUsername
    }

    /// OpenID Connect's standard claims, and `groups`.
    public static let openIDConnect = ProfileClaimNames(groups: "groups", emailVerified: "email_verified", preferredUsername: "preferred_username")
    /// A LoginRadius profile's fields: `Roles`, `EmailVerified`, `UserName`.
    public static let loginRadius = ProfileClaimNames(groups: "Roles", emailVerified: "EmailVerified", preferredUsername: "UserName")

    static func member(_ name: String, of members: [String: JSONValue]) -> JSONValue? {
        if let whole = members[name] { return whole }
        var current: JSONValue? = .object(members)
        for part in name.split(separator: ".", omittingEmptySubsequences: false) {
            current = current?.objectValue?[String(part)]
        }
        return current
    }
}
