import Foundation
import Synchronization

/// The identities last read from profiles, so a busy session's profile object is parsed once
/// rather than at every gated request.
///
/// Keyed by the profile's text (its object shares its bytes with the session's, nothing is
/// copied) and bounded: when full it starts again empty. Each ``AccessControl`` has its own, so a
/// reload that renames the claims starts afresh.
final class IdentityMemo: Sendable {
    /// What an identity is read from.
    private struct Key: Hashable {
        var id: String
        var email: String?
        var json: Data
    }

    static let capacity = 4096
    private let identities = Mutex<[Key: AccessIdentity]>([:])

    /// The identity of `profile`, read by `read` the first time.
    func identity(of profile: UserProfile, read: (UserProfile) -> AccessIdentity) -> AccessIdentity {
        let key = Key(id: profile.id, email: profile.email, json: profile.json)
        if let known = identities.withLock({ $0[key] }) { return known }
        let identity = read(profile)
        identities.withLock { identities in
            if identities.count >= Self.capacity { identities.removeAll(keepingCapacity: true) }
            identities[key] = identity
        }
        return identity
    }
}
