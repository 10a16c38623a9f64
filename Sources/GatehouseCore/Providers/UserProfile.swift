import Foundation

/// A user as the provider describes them: the few fields the gateway relies on, plus the
/// provider's whole profile object, passed on as it came.
///
/// The profile object is kept as the JSON text the provider sent, not as a parsed tree: the
/// gateway only ever passes it on, and text costs a fraction of the memory and no re-encoding.
public struct UserProfile: Sendable {
    /// The provider's stable user id.
    public let id: String
    /// The primary email address, when the profile has one.
    public let email: String?
    /// A display name, when the profile has one.
    public let name: String?
    /// The provider's profile object as UTF-8 JSON text: one object, validated when it was read.
    public let json: Data

    /// - Parameter json: the UTF-8 text of one JSON object. The initializer trusts it: callers
    ///   pass text they have parsed (``LoginRadiusResponse``) or encoded themselves.
    public init(id: String, email: String?, name: String?, json: Data) {
        self.id = id
        self.email = email
        self.name = name
        self.json = json
    }

    /// A profile whose object is given as a tree (fixtures, tests, the mock's registrations).
    public init(id: String, email: String?, name: String?, attributes: [String: JSONValue]) {
        self.init(id: id, email: email, name: name, json: JSONValue.object(attributes).encoded())
    }

    /// The profile object parsed into a tree. Parses on every call: for tests and rare reads.
    public var attributes: [String: JSONValue] {
        (try? JSONValue(parsing: json))?.objectValue ?? [:]
    }
}

extension UserProfile {
    /// Whether the id can name the user everywhere the gateway passes it on (`X-Auth-Request-User`,
    /// logs): not empty or blank, printable ASCII only, at most 255 bytes. A sign-in whose id is
    /// not is refused, so nothing downstream ever sees an anonymous or mangled user.
    public var hasCarriableID: Bool {
        !id.isEmpty && id.utf8.count <= 255 && id.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// The largest profile object a session holds, in bytes: larger ones are refused, so memory
    /// and rows are bounded in bytes, not only in count.
    public static let maximumSize = 64 * 1024

    /// Whether the profile object is at most ``maximumSize`` bytes.
    public var fitsInASession: Bool { json.count <= Self.maximumSize }

    /// Whether `other` is this profile to the byte: the same fields and the same JSON text.
    /// Cheaper than `==`, which parses two differing texts to compare their meaning.
    public func hasSameText(as other: UserProfile) -> Bool {
        json == other.json && id == other.id && email == other.email && name == other.name
    }
}

extension UserProfile: Equatable {
    /// Equal ids, emails and names, and the same profile object (member order and spacing aside).
    public static func == (lhs: UserProfile, rhs: UserProfile) -> Bool {
        lhs.id == rhs.id && lhs.email == rhs.email && lhs.name == rhs.name && (lhs.json == rhs.json || lhs.attributes == rhs.attributes)
    }
}
