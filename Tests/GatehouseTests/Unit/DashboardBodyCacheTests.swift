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
}
