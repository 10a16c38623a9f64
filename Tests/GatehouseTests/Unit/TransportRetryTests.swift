import Synchronization
import Testing

@testable import Gatehouse

@Suite("Transport retry")
struct TransportRetryTests {
    struct Dropped: Error {}
    struct Refused: Error {}

    @Test("a transport failure gets exactly one more attempt; any other failure none")
    func attempts() async throws {
        let retry = TransportRetry(pause: .zero ... .milliseconds(1))
        for (error, expectedAttempts) in [(Dropped() as any Error, 2), (Refused(), 1)] {
            let attempts = Mutex(0)
            await #expect(throws: (any Error).self) {
                try await retry.run(isTransportFailure: { $0 is Dropped }) {
                    attempts.withLock { $0 += 1 }
                    throw error
                }
            }
            #expect(attempts.withLock { $0 } == expectedAttempts, "\(error)")
        }
    }

    @Test("the pause before a retry is drawn from the configured range, not fixed")
    func jitter() {
        let retry = TransportRetry(pause: .milliseconds(20) ... .milliseconds(120))
        let pauses = (0..<200).map { _ in retry.randomPause() }
        #expect(pauses.allSatisfy { $0 >= .milliseconds(20) && $0 <= .milliseconds(120) })
        #expect(Set(pauses).count > 100)
    }
}
