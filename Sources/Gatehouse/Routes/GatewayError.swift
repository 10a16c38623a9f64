import HTTPTypes

/// An error the gateway answers with: a status, a stable machine-readable code, and a message
/// for people. Rendered as JSON or HTML by ``ErrorPageMiddleware``; never carries a secret.
public struct GatewayError: Error, Sendable, Equatable {
    public let status: HTTPResponse.Status
    /// A stable code, e.g. `state_mismatch`.
    public let code: String
    /// What happened and, where useful, what to do.
    public let message: String
    /// Extra response headers (e.g. `Retry-After`).
    public var headers: HTTPFields = [:]
    /// A page at the provider that signs the browser out, offered on the HTML page.
    public var signOutURL: String?
    /// The HTML page's heading; the status's reason phrase when `nil`.
    public var title: String?

    public init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    static let notAuthenticated = GatewayError(.unauthorized, code: "not_authenticated", message: "You are not signed in.")
    static let stateMismatch = GatewayError(
        .forbidden,
        code: "state_mismatch",
        message: "This login link does not belong to this browser, was already used, or has expired. Start again from the login page."
    )
    static let tokenRejected = GatewayError(
        .unauthorized,
        code: "token_rejected",
        message: "The identity provider did not accept the sign-in. Please sign in again."
    )
    static let credentialUsed = GatewayError(
        .unauthorized,
        code: "token_used",
        message: "This sign-in was completed already, or its session was ended: it cannot open another. Please sign in again."
    )
    static let profileTooLarge = GatewayError(
        .badGateway,
        code: "profile_too_large",
        message: "The identity provider's profile of this user is larger than \(UserProfile.maximumSize / 1024) KiB, more than a session keeps."
    )
    static func tooManyLogins(retryAfter: Duration) -> GatewayError {
        GatewayError(
            .tooManyRequests,
            code: "too_many_logins",
            message: "Too many sign-in requests from your address. Try again in a moment.",
            headers: [.retryAfter: "\(retryAfter.components.seconds)"]
        )
    }
    static let loginsBusy = GatewayError(
        .serviceUnavailable,
        code: "logins_busy",
        message: "Many sign-ins are under way right now. Try again in a moment.",
        headers: [.retryAfter: "1"]
    )
    static let storeUnavailable = GatewayError(
        .serviceUnavailable,
        code: "session_store_unavailable",
        message: "Sessions are unavailable right now. Try again shortly."
    )

    /// A user who signed in at the provider but whom the access rules do not let in.
    static func notAllowed(_ refusal: AccessRefusal) -> GatewayError {
        var error = GatewayError(
            .forbidden,
            code: "not_allowed",
            message: "You are signed in at the identity provider as \(refusal.account), but this account may not use this site."
        )
        error.signOutURL = refusal.signOutURL
        error.title = "Not allowed here"
        return error
    }

    /// The answer for a provider failure that is not the user's fault.
    static func provider(_ error: ProviderError) -> GatewayError {
        switch error.kind {
        case .tokenRejected:
            .tokenRejected
        case .misconfigured:
            GatewayError(
                .badGateway,
                code: "provider_misconfigured",
                message: "The gateway's credentials for the identity provider are not accepted. An operator has to fix this."
            )
        case .rateLimited:
            GatewayError(
                .serviceUnavailable,
                code: "provider_rate_limited",
                message: "The identity provider is rate-limiting sign-ins. Try again in a minute.",
                headers: [.retryAfter: "60"]
            )
        case .unreachable:
            GatewayError(.serviceUnavailable, code: "provider_unreachable", message: "The identity provider cannot be reached. Try again shortly.")
        case .timedOut:
            GatewayError(.gatewayTimeout, code: "provider_timeout", message: "The identity provider did not answer in time. Try again shortly.")
        case .badResponse:
            GatewayError(.badGateway, code: "provider_bad_response", message: "The identity provider gave an answer the gateway cannot use. Try again shortly.")
        case .loginDenied:
            GatewayError(.unauthorized, code: "login_denied", message: "The sign-in was cancelled or refused at the identity provider.")
        case .missingCredential:
            GatewayError(
                .badRequest,
                code: "missing_\(error.credential ?? "token")",
                message: "The identity provider did not hand back \(error.credential == "code" ? "an authorization code" : "an access token")."
            )
        case .malformedCredential:
            GatewayError(
                .badRequest,
                code: "malformed_\(error.credential ?? "token")",
                message: "The \(error.credential == "code" ? "authorization code" : "access token") handed back is not well-formed."
            )
        }
    }
}
