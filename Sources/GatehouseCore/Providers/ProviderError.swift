import Foundation

/// Why a call to the identity provider failed.
///
/// The cases separate what the gateway must do differently: a rejected token ends a session, a
/// misconfigured gateway needs an operator, a rate limit or an outage is the provider's and must
/// not cost the user their session. Messages never contain a token.
public struct ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broad class of failure.
    public enum Kind: Sendable, Equatable {
        /// The provider says the token is invalid, expired or missing.
        case tokenRejected
        /// The provider refuses the gateway's own credentials (API key or secret).
        case misconfigured
        /// The provider answered 429.
        case rateLimited
        /// The provider could not be reached.
        case unreachable
        /// The provider did not answer within the deadline.
        case timedOut
        /// The provider answered something that is not a valid answer (5xx, redirect, malformed,
        /// oversized, or an error code we do not know).
        case badResponse
        /// The provider sent the browser back without a sign-in: the user declined, or the
        /// provider refused (OpenID Connect's `error=access_denied` and friends).
        case loginDenied
        /// The callback carries no credential (no `token`, no `code`).
        case missingCredential
        /// The callback's credential is not of a shape the provider issues (refused before any call).
        case malformedCredential
    }

    /// The broad class of failure.
    public let kind: Kind
    /// The provider's error code, when it sent one.
    public let providerCode: Int?
    /// What happened, for logs and error pages. Never contains a token.
    public let reason: String
    /// For a missing or malformed credential, the name of the callback parameter (`token`, `code`).
    public let credential: String?

    private init(_ kind: Kind, code: Int? = nil, reason: String, credential: String? = nil) {
        self.kind = kind
        self.providerCode = code
        self.reason = reason
        self.credential = credential
    }

    public static func tokenRejected(code: Int? = nil, reason: String = "the provider rejected the access token") -> Self {
        .init(.tokenRejected, code: code, reason: reason)
    }

    public static func misconfigured(code: Int? = nil, reason: String) -> Self {
        .init(.misconfigured, code: code, reason: reason)
    }

    public static func rateLimited(reason: String = "the provider is rate-limiting this gateway (HTTP 429)") -> Self {
        .init(.rateLimited, reason: reason)
    }

    public static func unreachable(reason: String) -> Self {
        .init(.unreachable, reason: reason)
    }

    public static func timedOut(reason: String = "the provider did not answer in time") -> Self {
        .init(.timedOut, reason: reason)
    }

    public static func badResponse(code: Int? = nil, reason: String) -> Self {
        .init(.badResponse, code: code, reason: reason)
    }

    /// - Parameter reason: says which error the provider named, for logs.
    public static func loginDenied(reason: String) -> Self {
        .init(.loginDenied, reason: reason)
    }

    /// - Parameter credential: the callback parameter that is missing, e.g. `token` or `code`.
    public static func missingCredential(_ credential: String) -> Self {
        .init(.missingCredential, reason: "the provider's callback carries no \(credential)", credential: credential)
    }

    /// - Parameter credential: the callback parameter that is malformed, e.g. `token` or `code`.
    public static func malformedCredential(_ credential: String) -> Self {
        .init(.malformedCredential, reason: "the provider's callback carries a \(credential) that is not well-formed", credential: credential)
    }

    /// A copy whose reason no longer contains `secret`: a provider's own error message is quoted in
    /// the reason, and a misbehaving provider could echo the token back in it.
    public func redacting(_ secret: String) -> ProviderError {
        guard !secret.isEmpty, reason.contains(secret) else { return self }
        return ProviderError(kind, code: providerCode, reason: reason.replacingOccurrences(of: secret, with: "[redacted]"), credential: credential)
    }

    public var description: String {
        if let providerCode { return "\(reason) (provider error \(providerCode))" }
        return reason
    }
}
