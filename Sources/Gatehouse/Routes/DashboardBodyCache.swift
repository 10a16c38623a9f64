import Foundation
import Synchronization

/// The dashboard's JSON body for each session, encoded once per validation.
///
/// A profile only changes when the provider is asked again, so the body is keyed by the session
/// and the time of its last validation; a newer validation encodes afresh. At most ``capacity``
/// bodies are kept (all are dropped when it is reached), so memory stays bounded however many
/// sessions there are.
final class DashboardBodyCache: Sendable {
    private struct Entry {
        let validatedAt: Date
        let body: Data
    }

    private let entries = Mutex<[SessionKey: Entry]>([:])
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The cached body for `session`, or `encode()`'s, which is then kept.
    func body(for session: Session, encode: () -> Data) -> Data {
        if let entry = entries.withLock({ $0[session.key] }), entry.validatedAt == session.validatedAt {
            return entry.body
        }
        let body = encode()
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[session.key] = Entry(validatedAt: session.validatedAt, body: body)
        }
        return body
    }

    var count: Int { entries.withLock { $0.count } }
}
