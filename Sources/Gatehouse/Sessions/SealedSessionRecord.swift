import Foundation

/// A session in the form durable stores write it: the id's digest, the credentials and profile
/// sealed with ``SessionSealer``, the three times as seconds since 1970, and the user's
/// ``UserKey``.
///
/// SQLite and PostgreSQL share this encoding, so the at-rest protection is the same in both. The
/// credentials live in the `sealed_token` column, which held the bare access token before
/// credential sets existed; ``Credentials/init(storedRepresentation:)`` reads both.
struct SealedSessionRecord {
    var key: SessionKey
    var sealedCredentials: Data
    var sealedProfile: Data
    var createdAt: Double
    var lastSeenAt: Double
    var validatedAt: Double
    /// `nil` in rows written before user keys existed.
    var userKey: UserKey?

    init(
        key: SessionKey,
        sealedCredentials: Data,
        sealedProfile: Data,
        createdAt: Double,
        lastSeenAt: Double,
        validatedAt: Double,
        userKey: UserKey?
    ) {
        self.key = key
        self.sealedCredentials = sealedCredentials
        self.sealedProfile = sealedProfile
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.validatedAt = validatedAt
        self.userKey = userKey
    }

    init(sealing session: Session, with keys: SessionKeys) throws {
        self.init(
            key: session.key,
            sealedCredentials: try Self.sealCredentials(
                session.credentials,
                for: session.key,
                createdAt: session.createdAt.timeIntervalSince1970,
                with: keys.sealer
            ),
            sealedProfile: try Self.sealProfile(session.profile, for: session.key, createdAt: session.createdAt.timeIntervalSince1970, with: keys.sealer),
            createdAt: session.createdAt.timeIntervalSince1970,
            lastSeenAt: session.lastSeenAt.timeIntervalSince1970,
            validatedAt: session.validatedAt.timeIntervalSince1970,
            userKey: keys.userKey(for: session.profile.id)
        )
    }

    /// The session, or a thrown error when the blobs were sealed with another key or altered.
    func unsealed(with sealer: SessionSealer) throws -> Session {
        guard let credentials = Credentials(storedRepresentation: try sealer.open(sealedCredentials, field: .credentials, of: key, createdAt: createdAt)) else {
            throw Unreadable()
        }
        guard let profile = UserProfile(storedRepresentation: try sealer.open(sealedProfile, field: .profile, of: key, createdAt: createdAt)) else {
            throw Unreadable()
        }
        return Session(
            key: key,
            credentials: credentials,
            profile: profile,
            createdAt: Date(timeIntervalSince1970: createdAt),
            lastSeenAt: Date(timeIntervalSince1970: lastSeenAt),
            validatedAt: Date(timeIntervalSince1970: validatedAt)
        )
    }

    /// - Parameter createdAt: the row's `created_at`, which the seal authenticates.
    static func sealProfile(_ profile: UserProfile, for key: SessionKey, createdAt: Double, with sealer: SessionSealer) throws -> Data {
        try sealer.seal(profile.storedRepresentation, field: .profile, of: key, createdAt: createdAt)
    }

    /// - Parameter createdAt: the row's `created_at`, which the seal authenticates.
    static func sealCredentials(_ credentials: Credentials, for key: SessionKey, createdAt: Double, with sealer: SessionSealer) throws -> Data {
        try sealer.seal(credentials.storedRepresentation, field: .credentials, of: key, createdAt: createdAt)
    }

    /// The user key of the profile sealed in `sealedProfile`, for rows written before user keys
    /// existed; `nil` when it does not open.
    static func userKey(ofSealedProfile sealedProfile: Data, for key: SessionKey, createdAt: Double, with keys: SessionKeys) -> UserKey? {
        guard let opened = try? keys.sealer.open(sealedProfile, field: .profile, of: key, createdAt: createdAt),
            let profile = UserProfile(storedRepresentation: opened)
        else { return nil }
        return keys.userKey(for: profile.id)
    }

    /// Whether any of the sampled rows (key digest, sealed profile, created at) opens with `keys`; `true` for none.
    static func anyOpens(_ samples: [(key: Data, sealedProfile: Data, createdAt: Double)], with keys: SessionKeys) -> Bool {
        samples.isEmpty
            || samples.contains { userKey(ofSealedProfile: $0.sealedProfile, for: SessionKey(digest: $0.key), createdAt: $0.createdAt, with: keys) != nil }
    }

    /// A sealed field opened, but is not what the column holds.
    struct Unreadable: Error {}
}
