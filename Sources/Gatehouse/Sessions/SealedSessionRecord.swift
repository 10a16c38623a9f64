import Foundation

/// A session in the form durable stores write it: the id's digest, the token and profile sealed
/// with ``SessionSealer``, and the three times as seconds since 1970.
///
/// SQLite and PostgreSQL share this encoding, so the at-rest protection is the same in both.
struct SealedSessionRecord {
    var key: SessionKey
    var sealedToken: Data
    var sealedProfile: Data
    var createdAt: Double
    var lastSeenAt: Double
    var validatedAt: Double

    init(key: SessionKey, sealedToken: Data, sealedProfile: Data, createdAt: Double, lastSeenAt: Double, validatedAt: Double) {
        self.key = key
        self.sealedToken = sealedToken
        self.sealedProfile = sealedProfile
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.validatedAt = validatedAt
    }

    init(sealing session: Session, with sealer: SessionSealer) throws {
        self.init(
            key: session.key,
            sealedToken: try sealer.seal(Data(session.token.value.utf8), for: session.key),
            sealedProfile: try Self.sealProfile(session.profile, for: session.key, with: sealer),
            createdAt: session.createdAt.timeIntervalSince1970,
            lastSeenAt: session.lastSeenAt.timeIntervalSince1970,
            validatedAt: session.validatedAt.timeIntervalSince1970
        )
    }

    /// The session, or a thrown error when the blobs were sealed with another key or altered.
    func unsealed(with sealer: SessionSealer) throws -> Session {
        let token = try sealer.open(sealedToken, for: key)
        guard let profile = UserProfile(storedRepresentation: try sealer.open(sealedProfile, for: key)) else {
            throw UnreadableProfile()
        }
        return Session(
            key: key,
            token: AccessToken(String(decoding: token, as: UTF8.self)),
            profile: profile,
            createdAt: Date(timeIntervalSince1970: createdAt),
            lastSeenAt: Date(timeIntervalSince1970: lastSeenAt),
            validatedAt: Date(timeIntervalSince1970: validatedAt)
        )
    }

    static func sealProfile(_ profile: UserProfile, for key: SessionKey, with sealer: SessionSealer) throws -> Data {
        try sealer.seal(profile.storedRepresentation, for: key)
    }

    /// The sealed profile opened, but is not a stored profile.
    struct UnreadableProfile: Error {}
}
