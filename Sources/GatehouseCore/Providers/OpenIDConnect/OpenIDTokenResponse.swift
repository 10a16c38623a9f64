import Foundation

/// A token endpoint's answer (RFC 6749 §5), for the authorization code and for a refresh.
public struct OpenIDTokenResponse: Sendable {
    public var accessToken: AccessToken
    public var refreshToken: RefreshToken?
    /// The ID token as sent, not yet verified.
    public var idToken: String?
    /// `expires_in`, in seconds.
    public var expiresIn: TimeInterval?

    /// The longest token of any kind accepted from a token endpoint.
    public static let maximumTokenLength = 16 * 1024

    /// Reads a token endpoint's answer. Success is 2xx with a bearer `access_token`; an error
    /// answer (RFC 6749 §5.2) is read by its `error` code: `invalid_grant` means the code or
    /// refresh token is refused (the session, or the login, ends), client errors mean the
    /// gateway's registration is wrong.
    public static func read(status: Int, body: Data) throws(ProviderError) -> OpenIDTokenResponse {
        if status == 429 { throw .rateLimited() }
        guard (200..<300).contains(status) else {
            throw failure(status: status, body: body)
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: body) else {
            throw .badResponse(reason: "the token endpoint answered something that is not a token response")
        }
        guard let access = answer.access_token, AccessToken.isWellFormed(access, maximumLength: maximumTokenLength) else {
            throw .badResponse(reason: "the token endpoint's answer has no usable access_token")
        }
        guard answer.token_type?.lowercased() == "bearer" else {
            throw .badResponse(reason: "the token endpoint's token_type is not Bearer")
        }
        if let refresh = answer.refresh_token, !isToken(refresh) {
            throw .badResponse(reason: "the token endpoint's refresh_token is not a token")
        }
        if let id = answer.id_token, !isToken(id) {
            throw .badResponse(reason: "the token endpoint's id_token is not a token")
        }
        return OpenIDTokenResponse(
            accessToken: AccessToken(access),
            refreshToken: answer.refresh_token.map(RefreshToken.init),
            idToken: answer.id_token,
            expiresIn: answer.expires_in.flatMap { $0 > 0 && $0 < 10 * 365 * 86_400 ? $0 : nil }
        )
    }

    /// The error a failed answer stands for (RFC 6749 §5.2; revocation answers in the same form, RFC 7009 §2.2.1).
    public static func failure(status: Int, body: Data) -> ProviderError {
        let failure = try? JSONDecoder().decode(Failure.self, from: body)
        guard let code = failure?.error else {
            return .badResponse(reason: "the token endpoint answered HTTP \(status)")
        }
        // Only a known code is quoted, so a provider's text never reaches a log through here.
        switch code {
        case "invalid_grant":
            return .tokenRejected(reason: "the token endpoint refused the grant (invalid_grant)")
        case "invalid_client", "unauthorized_client", "unsupported_grant_type", "invalid_scope":
            return .misconfigured(reason: "the token endpoint refused this gateway's client (\(code))")
        case "invalid_request", "temporarily_unavailable", "server_error":
            return .badResponse(reason: "the token endpoint answered \(code) (HTTP \(status))")
        default:
            return .badResponse(reason: "the token endpoint answered an error (HTTP \(status))")
        }
    }

    private static func isToken(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= maximumTokenLength && value.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    private struct Answer: Decodable {
        let access_token: String?
        let token_type: String?
        let refresh_token: String?
        let id_token: String?
        let expires_in: TimeInterval?

        private enum CodingKeys: String, CodingKey {
            case access_token, token_type, refresh_token, id_token, expires_in
        }

        init(from decoder: any Decoder) throws {
            let members = try decoder.container(keyedBy: CodingKeys.self)
            access_token = try members.decodeIfPresent(String.self, forKey: .access_token)
            token_type = try members.decodeIfPresent(String.self, forKey: .token_type)
            refresh_token = try members.decodeIfPresent(String.self, forKey: .refresh_token)
            id_token = try members.decodeIfPresent(String.self, forKey: .id_token)
            // Some providers send expires_in as a string of digits.
            expires_in =
                (try? members.decodeIfPresent(TimeInterval.self, forKey: .expires_in))
                ?? (try? members.decodeIfPresent(String.self, forKey: .expires_in)).flatMap { $0.flatMap(TimeInterval.init) }
        }
    }

    private struct Failure: Decodable {
        let error: String
    }
}
