import Foundation

/// The claims of an ID token that Gatehouse checks and reads (OpenID Connect Core §2), from the
/// token's payload; the payload's whole text is kept for the profile.
public struct IDTokenClaims: Sendable, Equatable {
    public let issuer: String
    public let subject: String
    public let audience: [String]
    public let expiresAt: Date
    public let issuedAt: Date
    public let nonce: String?
    public let authorizedParty: String?

    /// Reads the claims of a decoded payload; a missing or mistyped required claim is a refused token.
    public init(payload: Data) throws(ProviderError) {
        guard let claims = try? JSONDecoder().decode(Claims.self, from: payload) else {
            throw CompactJWT.rejected("has claims that are not a JSON object with iss, sub, aud, exp and iat")
        }
        issuer = claims.iss
        subject = claims.sub
        audience = claims.aud.values
        expiresAt = Date(timeIntervalSince1970: claims.exp)
        issuedAt = Date(timeIntervalSince1970: claims.iat)
        nonce = claims.nonce
        authorizedParty = claims.azp
    }

    private struct Claims: Decodable {
        let iss: String
        let sub: String
        let aud: Audience
        let exp: TimeInterval
        let iat: TimeInterval
        let nonce: String?
        let azp: String?
    }

    /// `aud`: one string or an array of them.
    private struct Audience: Decodable {
        let values: [String]

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) {
                values = [one]
            } else {
                values = try container.decode([String].self)
            }
        }
    }
}

/// The checks OpenID Connect Core §3.1.3.7 asks of an ID token once its signature is verified.
public struct IDTokenExpectations: Sendable {
    /// The configured issuer, compared exactly.
    public var issuer: String
    /// The gateway's client id: it must be an audience, and the authorized party when one is named
    /// or when there are several audiences.
    public var clientID: String
    /// The nonce the login was started with; `nil` for a refresh's ID token, which carries none of its own.
    public var nonce: String?
    /// The subject the session already has, for a refresh's ID token.
    public var subject: String?
    /// How far the two clocks may disagree.
    public var leeway: TimeInterval

    public init(issuer: String, clientID: String, nonce: String?, subject: String? = nil, leeway: TimeInterval = 60) {
        self.issuer = issuer
        self.clientID = clientID
        self.nonce = nonce
        self.subject = subject
        self.leeway = leeway
    }

    /// Throws a refused-token error naming the first claim that fails.
    public func check(_ claims: IDTokenClaims, now: Date) throws(ProviderError) {
        guard claims.issuer == issuer else { throw CompactJWT.rejected("was issued by another issuer (iss)") }
        guard claims.audience.contains(clientID) else { throw CompactJWT.rejected("is not meant for this gateway (aud)") }
        if claims.audience.count > 1 || claims.authorizedParty != nil {
            guard claims.authorizedParty == clientID else { throw CompactJWT.rejected("was issued to another party (azp)") }
        }
        guard claims.expiresAt.timeIntervalSince(now) > -leeway else { throw CompactJWT.rejected("has expired (exp)") }
        guard claims.issuedAt.timeIntervalSince(now) < leeway else { throw CompactJWT.rejected("was issued in the future (iat)") }
        if let nonce {
            guard let sent = claims.nonce, ConstantTime.equal(sent, nonce) else {
                throw CompactJWT.rejected("does not carry this login's nonce")
            }
        }
        if let subject, claims.subject != subject {
            throw CompactJWT.rejected("names another subject than the session's (sub)")
        }
        guard !claims.subject.isEmpty else { throw CompactJWT.rejected("has an empty subject (sub)") }
    }
}
