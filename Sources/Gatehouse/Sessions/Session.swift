import Foundation

/// A signed-in browser: who it is, the credentials that prove it, and the times that bound its life.
public struct Session: Sendable, Equatable {
    /// The hashed session id this session is stored under.
    public let key: SessionKey
    /// What the provider handed over (access token, and refresh and ID tokens with OpenID
    /// Connect); sealed whenever a store writes it to disk.
    public var credentials: Credentials
    /// The profile from the last successful confirmation.
    public var profile: UserProfile
    /// When the session began; the absolute timeout counts from here.
    public let createdAt: Date
    /// When the session was last used (written at most every so often; see ``SessionManager``).
    public var lastSeenAt: Date
    /// When the provider last confirmed the session.
    public var validatedAt: Date

    public init(key: SessionKey, credentials: Credentials, profile: UserProfile, createdAt: Date, lastSeenAt: Date, validatedAt: Date) {
        self.key = key
        self.credentials = credentials
        self.profile = profile
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.validatedAt = validatedAt
    }
}
