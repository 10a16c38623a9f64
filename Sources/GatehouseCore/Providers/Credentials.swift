import Foundation

/// What a provider handed over at sign-in and what proves the session to it later: an access
/// token, and, with OpenID Connect, a refresh token and the ID token. Sealed whenever a store
/// writes it to disk; every token prints as a redaction.
public struct Credentials: Sendable, Equatable {
    /// The token sent to the provider's APIs (LoginRadius's profile, OpenID Connect's userinfo).
    public var accessToken: AccessToken
    /// What renews the access token and confirms the session again, when the provider issued one.
    public var refreshToken: RefreshToken?
    /// The ID token of the sign-in (or of the last refresh), for the provider's logout.
    public var idToken: IDToken?
    /// When the access token stops working, when the provider said.
    public var expiresAt: Date?

    public init(accessToken: AccessToken, refreshToken: RefreshToken? = nil, idToken: IDToken? = nil, expiresAt: Date? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.idToken = idToken
        self.expiresAt = expiresAt
    }
}

extension Credentials {
    /// The credentials as session stores keep them (sealed): ``LengthPrefixedFields`` of the access
    /// token, the refresh token, the ID token and the expiry (seconds since 1970, as text).
    public var storedRepresentation: Data {
        LengthPrefixedFields.encode(
            version: Self.storageVersion,
            [
                Data(accessToken.value.utf8), refreshToken.map { Data($0.value.utf8) }, idToken.map { Data($0.value.utf8) },
                expiresAt.map { Data(String($0.timeIntervalSince1970).utf8) },
            ]
        )
    }

    /// Reads ``storedRepresentation``, or the bare access token that releases before credential
    /// sets stored (a token never starts with the version byte, which is not a token character).
    public init?(storedRepresentation data: Data) {
        guard data.first == Self.storageVersion else {
            guard let token = data.utf8Text, !token.isEmpty else { return nil }
            self.init(accessToken: AccessToken(token))
            return
        }
        guard let fields = LengthPrefixedFields.decode(data, version: Self.storageVersion, count: 4),
            let access = fields[0]?.utf8Text
        else { return nil }
        let refresh = fields[1].map { $0.utf8Text }
        let id = fields[2].map { $0.utf8Text }
        let expiry = fields[3].map { $0.utf8Text.flatMap(TimeInterval.init) }
        // A field that is present must be readable.
        guard refresh != .some(nil), id != .some(nil), expiry != .some(nil) else { return nil }
        self.init(
            accessToken: AccessToken(access),
            refreshToken: refresh?.map(RefreshToken.init),
            idToken: id?.map(IDToken.init),
            expiresAt: expiry?.map(Date.init(timeIntervalSince1970:))
        )
    }

    private static let storageVersion: UInt8 = 1
}
