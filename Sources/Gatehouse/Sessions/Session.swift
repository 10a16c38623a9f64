import Foundation

/// A signed-in browser: who it is, the token that proves it, and the times that bound its life.
public struct Session: Sendable, Equatable {
    /// The hashed session id this session is stored under.
    public let key: SessionKey
    /// The provider's access token; sealed whenever a store writes it to disk.
    public var token: AccessToken
    /// The profile from the last successful fetch.
    public var profile: UserProfile
    /// When the session began; the absolute timeout counts from here.
    public let createdAt: Date
    /// When the session was last used (written at most every so often; see ``SessionManager``).
    public var lastSeenAt: Date
    /// When the provider last confirmed the token.
    public var validatedAt: Date

    public init(key: SessionKey, token: AccessToken, profile: UserProfile, createdAt: Date, lastSeenAt: Date, validatedAt: Date) {
        self.key = key
        self.token = token
        self.profile = profile
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.validatedAt = validatedAt
    }
}
