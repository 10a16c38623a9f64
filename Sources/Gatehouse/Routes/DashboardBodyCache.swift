import Foundation
import Synchronization

/// The dashboard's JSON body for each session, encoded once per profile.
///
/// The body depends only on the session's profile, so it is kept by session and reused while the
/// profile is the same text: a revalidation that brings the same profile back reuses it, one that
/// brings a changed profile encodes afresh. At most ``capacity`` bodies are kept (all are dropped
/// when it is reached), so memory stays bounded however many sessions there are.
final class DashboardBodyCache: Sendable {
    private struct Entry {
        /// The profile the body was encoded from.
        let profile: UserProfile
        let body: Data

    }

    private let entries = Mutex<[SessionKey: Entry]>([:])
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The cached body for `session`, or `encode()`'s, which is then kept.
    func body(for session: Session, encode: () -> Data) -> Data {
        if let entry = entries.withLock({ $0[session.key] }), entry.profile.hasSameText(as: session.profile) {
            return entry.body
        }
        let body = encode()
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[session.key] = Entry(profile: session.profile, body: body)
        }
        return body
    }

    var count: Int { entries.withLock { $0.count } }
}
