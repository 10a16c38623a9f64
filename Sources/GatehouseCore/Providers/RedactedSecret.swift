/// A credential whose value must never be printed: describing, interpolating or dumping it shows a
/// redaction, so it cannot reach a log line or an error message by accident.
public protocol RedactedSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The raw value, for the few places that must send it to the provider.
    var value: String { get }
}

extension RedactedSecret {
    public var description: String { "\(Self.self)(redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// An OAuth 2.0 refresh token: what confirms a session again and brings fresh access tokens.
public struct RefreshToken: RedactedSecret {
    public let value: String

    public init(_ value: String) {
        self.value = value
    }
}

/// An OpenID Connect ID token (a signed JWT), kept for `id_token_hint` at the provider's logout.
public struct IDToken: RedactedSecret {
    public let value: String

    public init(_ value: String) {
        self.value = value
    }
}
