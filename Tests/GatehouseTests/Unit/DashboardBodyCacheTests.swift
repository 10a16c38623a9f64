import Foundation
import Testing

@testable import Gatehouse

@Suite("Dashboard body cache")
struct DashboardBodyCacheTests {
    func session(
        validatedAt: Date,
        key: SessionKey = SessionID.generate().storageKey,
        profile: UserProfile = UserProfile(id: "u", email: nil, name: nil, attributes: [:])
    ) -> Session {
        Session(
            key: key,
            credentials: Credentials(accessToken: AccessToken("t")),
            profile: profile,
            createdAt: validatedAt,
            lastSeenAt: validatedAt,
            validatedAt: validatedAt
        )
    }

    @Test("a body is encoded once per profile: a revalidation with the same profile reuses it, a changed profile encodes afresh")
    func oncePerProfile() {
        let cache = DashboardBodyCache()
        let first = session(validatedAt: Date(timeIntervalSince1970: 100))
        var encodings = 0
        let encode = { () -> Data in
            encodings += 1
            return Data("body \(encodings)".utf8)
        }
        #expect(cache.body(for: first, encode: encode) == Data("body 1".utf8))
        #expect(cache.body(for: first, encode: encode) == Data("body 1".utf8))
        let revalidated = session(validatedAt: Date(timeIntervalSince1970: 200), key: first.key)
        #expect(cache.body(for: revalidated, encode: encode) == Data("body 1".utf8))
        let renamed = UserProfile(id: "u", email: nil, name: "Ada", attributes: [:])
        let withNewName = session(validatedAt: Date(timeIntervalSince1970: 300), key: first.key, profile: renamed)
        #expect(cache.body(for: withNewName, encode: encode) == Data("body 2".utf8))
        let edited = UserProfile(id: "u", email: nil, name: "Ada", attributes: ["City": .string("London")])
        let withNewText = session(validatedAt: Date(timeIntervalSince1970: 400), key: first.key, profile: edited)
        #expect(cache.body(for: withNewText, encode: encode) == Data("body 3".utf8))
        #expect(cache.body(for: withNewText, encode: encode) == Data("body 3".utf8))
        #expect(encodings == 3)
    }

    @Test("the cache never holds more than its capacity")
    func bounded() {
        let cache = DashboardBodyCache(capacity: 100)
        for _ in 0..<1_000 {
            _ = cache.body(for: session(validatedAt: Date())) { Data() }
        }
        #expect(cache.count <= 100)
    }

    @Test("the cache never holds more bytes than its budget, however large the profiles; a body too large to keep is still served")
    func boundedInBytes() {
        let cache = DashboardBodyCache(capacity: 10_000, byteBudget: 1024 * 1024)
        let large = UserProfile(id: "u", email: nil, name: nil, attributes: ["Padding": .string(String(repeating: "x", count: 30_000))])
        for _ in 0..<500 {
            _ = cache.body(for: session(validatedAt: Date(), profile: large)) { Data(count: 30_000) }
            #expect(cache.bytes <= 1024 * 1024)
        }
        #expect(cache.count > 0 && cache.count < 20, "about 17 entries of 60 KB fit in 1 MiB; got \(cache.count)")

        let huge = UserProfile(id: "u", email: nil, name: nil, attributes: ["Padding": .string(String(repeating: "x", count: 70_000))])
        let bytesBefore = cache.bytes
        let body = cache.body(for: session(validatedAt: Date(), profile: huge)) { Data(count: 70_000) }
        #expect(body.count == 70_000)
        #expect(cache.bytes == bytesBefore, "a body over a sixteenth of the budget is not kept")
    }
}
