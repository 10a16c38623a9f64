import Foundation
import HTTPTypes
import NIOCore
import Synchronization
import Testing

@testable import Gatehouse

@Suite("Per-client limits")
struct ClientLimitTests {
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    func client(peer: String, forwarded: [String] = [], trusted: TrustedProxies = .loopback) throws -> String {
        var headers = HTTPFields()
        for value in forwarded { headers.append(HTTPField(name: Self.forwardedFor, value: value)) }
        return ClientAddress.of(peer: try SocketAddress(ipAddress: peer, port: 5000), headers: headers, trusted: trusted).description
    }

    @Test("the client is the peer, or behind trusted proxies the nearest forwarded hop they do not vouch for")
    func clientAddress() throws {
        #expect(try client(peer: "203.0.113.5", forwarded: ["198.51.100.1"]) == "203.0.113.5", "an untrusted peer's header is not believed")
        #expect(try client(peer: "127.0.0.1", forwarded: ["198.51.100.1"]) == "198.51.100.1")
        #expect(try client(peer: "127.0.0.1", forwarded: ["6.6.6.6, 198.51.100.1"]) == "198.51.100.1", "what the client wrote further left is not believed")
        #expect(
            try client(peer: "127.0.0.1", forwarded: ["6.6.6.6", "198.51.100.1, 127.0.0.1"]) == "198.51.100.1",
            "trusted hops are passed over, across headers"
        )
        #expect(try client(peer: "127.0.0.1", forwarded: ["garbage"]) == "127.0.0.1", "an unreadable hop leaves the peer")
        #expect(try client(peer: "127.0.0.1") == "127.0.0.1")
        #expect(try client(peer: "::ffff:198.51.100.9") == "198.51.100.9", "IPv4-mapped IPv6 counts as IPv4")
        #expect(try client(peer: "2001:db8:1:2:aaaa::1") == client(peer: "2001:db8:1:2:bbbb::9"), "IPv6 counts by /64")
        #expect(try client(peer: "2001:db8:1:2::1") != client(peer: "2001:db8:1:3::1"))
    }

    @Test("a client gets its burst, then waits as its bucket refills; others are not held back; the table stays bounded")
    func rateLimiter() throws {
        let start = ContinuousClock.now
        let offset = Mutex(Duration.zero)
        let limiter = ClientRateLimiter(perMinute: 60, burst: 5, capacity: 100) { start + offset.withLock { $0 } }
        let one = ClientAddress(addressBytes: [203, 0, 113, 1])
        let two = ClientAddress(addressBytes: [203, 0, 113, 2])
        for _ in 0..<5 { #expect(limiter.admit(one) == nil) }
        #expect(limiter.admit(one) == .seconds(1), "one token a second at 60 a minute")
        #expect(limiter.admit(two) == nil)
        offset.withLock { $0 = .seconds(2) }
        #expect(limiter.admit(one) == nil)
        #expect(limiter.admit(one) == nil)
        #expect(limiter.admit(one) != nil)

        for index in 0..<1000 {
            _ = limiter.admit(ClientAddress(addressBytes: [10, 0, UInt8(index / 256), UInt8(index % 256)]))
            #expect(limiter.trackedClients <= 100)
        }
    }

    @Test("the provider-call budget admits its limit at once and no more; a finished call frees its place")
    func budget() async throws {
        let budget = ProviderCallBudget(limit: 2)
        let (gate, opener) = AsyncStream.makeStream(of: Void.self)
        let (entered, arrivals) = AsyncStream.makeStream(of: Void.self)
        async let first: Bool? = budget.run {
            arrivals.yield()
            for await _ in gate { break }
            return true
        }
        async let second: Bool? = budget.run {
            arrivals.yield()
            for await _ in gate { break }
            return true
        }
        var iterator = entered.makeAsyncIterator()
        _ = await iterator.next()
        _ = await iterator.next()
        #expect(budget.current == 2)
        #expect(await budget.run { true } == nil, "a third call is refused at once")
        opener.finish()
        #expect(await first == true)
        #expect(await second == true)
        #expect(budget.current == 0)
        #expect(await budget.run { true } == true)
    }
}
