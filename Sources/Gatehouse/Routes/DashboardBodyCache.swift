import Foundation
import Synchronization

/// The dashboard's JSON body for each session, encoded once per profile.
///
/// The body depends only on the session's profile, so it is kept by session and reused while the
/// profile is the same text: a revalidation that brings the same profile back reuses it, one that
/// brings a changed profile encodes afresh. At most ``capacity`` bodies and ``byteBudget`` bytes
/// (bodies and the profiles they were made from) are kept: all are dropped when either is
/// reached, so memory stays bounded in bytes however many sessions there are and however large
/// their profiles.
final class DashboardBodyCache: Sendable {
    private struct Entry {
        /// The profile the body was encoded from.
        let profile: UserProfile
        let body: Data

        var bytes: Int { profile.json.count + body.count }
    }

    private struct Contents {
        var entries: [SessionKey: Entry] = [:]
        var bytes = 0
    }

    private let contents = Mutex(Contents())
    let capacity: Int
    let byteBudget: Int

    init(capacity: Int = 10_000, byteBudget: Int = 32 * 1024 * 1024) {
        self.capacity = capacity
        self.byteBudget = byteBudget
    }

    /// The cached body for `session`, or `encode()`'s, which is then kept.
    func body(for session: Session, encode: () -> Data) -> Data {
        if let entry = contents.withLock({ $0.entries[session.key] }), entry.profile.hasSameText(as: session.profile) {
            return entry.body
        }
        let entry = Entry(profile: session.profile, body: encode())
        // A body that alone would take more than a sixteenth of the budget is served, not kept.
        guard entry.bytes <= byteBudget / 16 else { return entry.body }
        contents.withLock { contents in
            if let replaced = contents.entries[session.key] { contents.bytes -= replaced.bytes }
            if contents.entries.count >= capacity || contents.bytes + entry.bytes > byteBudget {
                contents.entries.removeAll(keepingCapacity: true)
                contents.bytes = 0
            }
            contents.entries[session.key] = entry
            contents.bytes += entry.bytes
        }
        return entry.body
    }

    var count: Int { contents.withLock { $0.entries.count } }

    /// The bytes held: bodies and the profiles they were made from.
    var bytes: Int { contents.withLock { $0.bytes } }
}
