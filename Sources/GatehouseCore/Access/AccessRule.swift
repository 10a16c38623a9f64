/// Who may pass: allowed emails, allowed email domains and allowed groups (contract §9).
///
/// Within a list any entry matches; every list that is set must match, emails and domains
/// counting as one list. No lists: everyone signed in passes. Email lists need a verified email
/// unless ``requireVerifiedEmail`` is off. An empty list is no list.
public struct AccessRule: Sendable, Equatable {
    /// Exact addresses, compared without regard to ASCII case.
    public var allowEmails: Set<String>
    /// The part after `@`, exactly (no subdomains), compared without regard to ASCII case.
    public var allowEmailDomains: Set<String>
    /// Group (or role) names, compared exactly.
    public var allowGroups: Set<String>
    public var requireVerifiedEmail: Bool

    public init(allowEmails: [String] = [], allowEmailDomains: [String] = [], allowGroups: [String] = [], requireVerifiedEmail: Bool = true) {
        self.allowEmails = Set(allowEmails.map(Self.asciiLowercased))
        self.allowEmailDomains = Set(allowEmailDomains.map(Self.asciiLowercased))
        self.allowGroups = Set(allowGroups)
        self.requireVerifiedEmail = requireVerifiedEmail
    }

    /// No list is set: everyone signed in passes.
    public var admitsEveryone: Bool {
        allowEmails.isEmpty && allowEmailDomains.isEmpty && allowGroups.isEmpty
    }

    /// Whether `identity` passes, and if not, why (for logs: names no value).
    public func evaluate(_ identity: AccessIdentity) -> AccessDecision {
        if !allowEmails.isEmpty || !allowEmailDomains.isEmpty {
            guard let email = identity.email.map(Self.asciiLowercased), !email.isEmpty else { return .denied(.noEmail) }
            if requireVerifiedEmail, identity.emailVerified != true { return .denied(.emailNotVerified) }
            let domain = email.split(separator: "@", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            guard allowEmails.contains(email) || (email.contains("@") && allowEmailDomains.contains(domain)) else {
                return .denied(.emailNotAllowed)
            }
        }
        if !allowGroups.isEmpty, !identity.groups.contains(where: allowGroups.contains) {
            return .denied(.notInAllowedGroup)
        }
        return .allowed
    }

    /// `text` with A–Z made a–z and nothing else changed: Unicode case mapping would let the
    /// Kelvin sign (U+212A) stand for `k`.
    static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }
}

/// Whether a rule lets a user pass.
public enum AccessDecision: Sendable, Equatable {
    case allowed
    case denied(AccessDenial)

    public var isAllowed: Bool { self == .allowed }
}

/// Why a rule turned a user away; the raw value is what logs say.
public enum AccessDenial: String, Sendable, Equatable {
    case noEmail = "the account has no email"
    case emailNotVerified = "the account's email is not verified"
    case emailNotAllowed = "the account's email is not allowed"
    case notInAllowedGroup = "the account is in none of the allowed groups"
}
