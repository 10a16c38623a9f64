import NIOCore
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
///
/// A part read once the upload is over is not handed to AsyncHTTPClient: the read fails instead,
/// which ends its upload task. An app that answers 300 or more before the body was sent is one
/// AsyncHTTPClient stops uploading to (``abandon()``), and its paused upload task is never resumed
/// once the answer has ended (1.37.0 leaves the paused stream's continuation waiting): a part
/// handed to it then would be held for good, with the task. Such a part is held here until the
/// answer is done, then dropped.
final class UploadHandover: Sendable {
    private enum State {
        case uploading(reading: Bool)
        /// A read of an abandoned upload has a part, and waits for ``handBack()`` to drop it.
        case holding(CheckedContinuation<Void, Never>)
        /// Handed back while a read was in flight: the caller of ``handBack()`` waits for it.
        case handingBack(CheckedContinuation<Void, Never>)
        case handedBack
    }

    /// Thrown to the upload once the body is Hummingbird's again.
    struct HandedBack: Error {}

    private let state = Mutex(State.uploading(reading: false))
    private let brokenOff = Atomic(false)
    private let abandoned = Atomic(false)

    /// Whether a read of the client's body failed: the client broke off its upload (closed or
    /// reset its connection mid-body), so what failed the exchange was the client, not the app.
    var clientBrokeOff: Bool { brokenOff.load(ordering: .acquiring) }

    /// The app answered before the body was sent, and AsyncHTTPClient sends no more of it: a part
    /// read from now on is held until the body is handed back, then dropped.
    func abandon() {
        abandoned.store(true, ordering: .releasing)
    }

    /// Runs one read of the upload, unless the body has been handed back.
    func read(_ body: () async throws -> ByteBuffer?) async throws -> ByteBuffer? {
        let mayRead = state.withLock { state in
            guard case .uploading(reading: false) = state else { return false }
            state = .uploading(reading: true)
            return true
        }
        guard mayRead else { throw HandedBack() }
        defer { finishRead() }
        let part: ByteBuffer?
        do {
            part = try await body()
        } catch {
            brokenOff.store(true, ordering: .releasing)
            throw error
        }
        guard part != nil else { return nil }  // the body's end lets the upload finish
        if abandoned.load(ordering: .acquiring) { await holdUntilHandedBack() }
        if case .handingBack = state.withLock({ $0 }) { throw HandedBack() }
        return part
    }

    /// Waits until ``handBack()`` is called (at once when it is waiting already).
    private func holdUntilHandedBack() async {
        await withCheckedContinuation { (holding: CheckedContinuation<Void, Never>) in
            let handingBack = state.withLock { state -> Bool in
                guard case .uploading(reading: true) = state else { return true }
                state = .holding(holding)
                return false
            }
            if handingBack { holding.resume() }
        }
    }

    private func finishRead() {
        let waiting = state.withLock { state -> CheckedContinuation<Void, Never>? in
            switch state {
            case .uploading, .holding:
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
            let (inFlight, held) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
                switch state {
                case .uploading(reading: true):
                    state = .handingBack(waiting)
                    return (true, nil)
                case .holding(let held):
                    state = .handingBack(waiting)
                    return (true, held)
                case .uploading(reading: false):
                    state = .handedBack
                    return (false, nil)
                case .handingBack, .handedBack:
                    return (false, nil)  // handed back already: the first caller waits for the read
                }
            }
            held?.resume()
            if !inFlight { waiting.resume() }
        }
    }
}
