import Foundation

// The values that cross the provider seam (`IdentityProvider`): what a login starts with, what it
// ends with, and what revalidation and logout bring back. None of them names a provider's protocol.

/// Whether a browser came to sign in or to create an account.
public enum LoginIntent: String, Sendable {
    case login
    case register
}

/// What the gateway gives a provider to start a login.
public struct LoginStart: Sendable {
    public var intent: LoginIntent
    /// The single-use state that ties the provider's answer to this browser; the provider must
    /// bring it back in the callback (in its path or as `state`).
    public var state: String
    /// Where the provider must send the browser back: `{publicURL}/login/callback`.
    public var callbackURL: String

    public init(intent: LoginIntent, state: String, callbackURL: String) {
        self.intent = intent
        self.state = state
        self.callbackURL = callbackURL
    }
}

/// Where to send the browser to sign in, and what the gateway must remember until it comes back.
public struct LoginRedirect: Sendable {
    /// The provider's login page, with everything it needs in the URL.
    public var url: String
    /// Values only this login may know (a PKCE verifier, a nonce). The gateway seals them into the
    /// browser's login-attempt cookie and hands them back with the callback.
    public var secrets: LoginSecrets

    public init(url: String, secrets: LoginSecrets = .init()) {
        self.url = url
        self.secrets = secrets
    }
}

/// A provider's values for one login attempt, by name; they print as a redaction.
public struct LoginSecrets: Sendable, Equatable, Codable, CustomStringConvertible, CustomReflectable {
    public var values: [String: String]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    public subscript(name: String) -> String? {
        get { values[name] }
        set { values[name] = newValue }
    }

    public init(from decoder: any Decoder) throws {
        values = try decoder.singleValueContainer().decode([String: String].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }

    public var description: String { "LoginSecrets(\(values.count) redacted)" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// The query of the provider's callback request, percent-decoded, in order.
public struct CallbackParameters: Sendable {
    public var items: [(name: String, value: String)]

    public init(_ items: [(name: String, value: String)]) {
        self.items = items
    }

    /// Every value given for `name`.
    public func values(_ name: String) -> [String] {
        items.filter { $0.name == name }.map(\.value)
    }

    /// The value of `name` when it is given exactly once.
    public func single(_ name: String) -> String? {
        let found = values(name)
        return found.count == 1 ? found[0] : nil
    }
}

/// What the gateway gives a provider to finish a login: the callback's query and the login's secrets.
public struct LoginCompletion: Sendable {
    public var parameters: CallbackParameters
    public var secrets: LoginSecrets
    /// The callback URL the login was started with (OpenID Connect's `redirect_uri`).
    public var callbackURL: String

    public init(parameters: CallbackParameters, secrets: LoginSecrets, callbackURL: String) {
        self.parameters = parameters
        self.secrets = secrets
        self.callbackURL = callbackURL
    }
}

/// A finished login: the credentials to keep in the session, and who signed in.
public struct SignIn: Sendable {
    public var credentials: Credentials
    public var profile: UserProfile

    public init(credentials: Credentials, profile: UserProfile) {
        self.credentials = credentials
        self.profile = profile
    }
}

/// A session the provider confirmed again: the profile as it is now, and new credentials when it
/// issued them (a refreshed access token, a rotated refresh token).
public struct Revalidation: Sendable {
    public var profile: UserProfile
    /// `nil` when the session's credentials stay as they are.
    public var credentials: Credentials?

    public init(profile: UserProfile, credentials: Credentials? = nil) {
        self.profile = profile
        self.credentials = credentials
    }
}

/// What ending a session at the provider came to.
public struct SessionEnd: Sendable {
    /// Whether the provider revoked the session's token.
    public enum Revocation: Sendable, Equatable {
        case revoked
        /// The provider offers no way to revoke.
        case unsupported
        case failed(ProviderError)
    }

    public var revocation: Revocation
    /// Where to send a browser to sign out at the provider as well, when it has such a page.
    public var browserURL: String?

    public init(revocation: Revocation, browserURL: String? = nil) {
        self.revocation = revocation
        self.browserURL = browserURL
    }

    /// Whether the token was revoked, as `providerRevoked` reports it.
    public var revoked: Bool { revocation == .revoked }
}
