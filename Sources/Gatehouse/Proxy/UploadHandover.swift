import Synchronization

/// Who reads a proxied request's body: AsyncHTTPClient's upload while the exchange with the app
/// lasts, then Hummingbird again, which reads what is left of it before the connection's next
/// request.
///
/// The two must never read at once: the body is the connection's one stream, and NIO traps on a
/// second reader. They would, whenever an app answers before it has read the whole body (a 404
/// or 413 to an upload): AsyncHTTPClient's upload task may be waiting in a read for the client's
/// next part when the answer is done and Hummingbird starts reading. ``handBack()`` waits for
/// such a read to return and refuses every later one, so the upload stops (the app sees it cut
/// off, never passed as whole) and Hummingbird reads alone.
final class UploadHandover: Sendable {
    private enum State {
        case uploading(reading: Bool)
        /// Handed back while a read was in flight: the caller of ``handBack()`` waits for it.
        case handingBack(CheckedContinuation<Void, Never>)
        case handedBack
    }

    /// Thrown to the upload once the body is Hummingbird's again.
    struct HandedBack: Error {}

    private let state = Mutex(State.uploading(reading: false))
    private let brokenOff = Atomic(false)

    /// Whether a read of the client's body failed: the client broke off its upload (closed or
    /// reset its connection mid-body), so what failed the exchange was the client, not the app.
    var clientBrokeOff: Bool { brokenOff.load(ordering: .acquiring) }

    /// Runs one read of the upload, unless the body has been handed back.
    func read<Part>(_ body: () async throws -> Part) async throws -> Part {
        let mayRead = state.withLock { state in
            guard case .uploading(reading: false) = state else { return false }
            state = .uploading(reading: true)
            return true
        }
        guard mayRead else { throw HandedBack() }
        defer { finishRead() }
        do {
            return try await body()
        } catch {
            brokenOff.store(true, ordering: .releasing)
            throw error
        }
    }

    private func finishRead() {
        let waiting = state.withLock { state -> CheckedContinuation<Void, Never>? in
            switch state {
            case .uploading:
                state = .uploading(reading: false)
                return nil
            case .handingBack(let waiting):
                state = .handedBack
                return waiting
            case .handedBack:
                return nil
            }
        }
        waiting?.resume()
    }

    /// Ends the upload's reading: returns once no read is in flight, and refuses any later one.
    /// Called once per exchange, when its answer is done or has failed.
    func handBack() async {
        await withCheckedContinuation { (waiting: CheckedContinuation<Void, Never>) in
            let inFlight = state.withLock { state -> Bool in
                switch state {
                case .uploading(reading: true):
                    state = .handingBack(waiting)
                    return true
                case .uploading(reading: false):
                    state = .handedBack
                    return false
                case .handingBack, .handedBack:
                    return false  // handed back already: the first caller waits for the read
                }
            }
            if !inFlight { waiting.resume() }
        }
    }
}
