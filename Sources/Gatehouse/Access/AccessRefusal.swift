/// A user the access rules turned away: who (as the page names them), why, and where the
/// browser can sign out at the provider to try another account.
public struct AccessRefusal: Sendable, Equatable {
    /// The email, else the username, name or id.
    public var account: String
    public var denial: AccessDenial
    /// The provider's end-session page, when it has one.
    public var signOutURL: String?

    public init(account: String, denial: AccessDenial, signOutURL: String? = nil) {
        self.account = account
        self.denial = denial
        self.signOutURL = signOutURL
    }

    /// How a refusal names `identity`'s account.
    public static func accountName(of identity: AccessIdentity, name: String?) -> String {
        [identity.email, identity.preferredUsername, name].compactMap { $0 }.first { !$0.isEmpty } ?? identity.userID
    }
}
