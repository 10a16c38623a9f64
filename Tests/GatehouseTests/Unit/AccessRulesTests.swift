import Foundation
import NIOCore
import Testing

@testable import Gatehouse
@testable import GatehouseCore

@Suite("Access rules")
struct AccessRulesTests {
    static let ada = AccessIdentity(userID: "u1", email: "Ada@Example.com", emailVerified: true, groups: ["admins", "staff"], preferredUsername: "ada")
    static let grace = AccessIdentity(userID: "u2", email: "grace@example.com", emailVerified: true, groups: ["staff"])
    static let alan = AccessIdentity(userID: "u3", email: "alan@example.com", emailVerified: false)
    static let partner = AccessIdentity(userID: "u4", email: "pat@sub.example.com", emailVerified: true, groups: ["admins"])
    static let anonymous = AccessIdentity(userID: "u5", email: nil, emailVerified: false, groups: ["admins"])

    @Test("no lists pass everyone; each list alone passes exactly its members")
    func eachRuleKind() {
        #expect(AccessRule().admitsEveryone)
        for identity in [Self.ada, Self.grace, Self.alan, Self.anonymous] {
            #expect(AccessRule().evaluate(identity) == .allowed)
        }
        let emails = AccessRule(allowEmails: ["ada@example.COM"])
        #expect(emails.evaluate(Self.ada) == .allowed, "emails compare without regard to case")
        #expect(emails.evaluate(Self.grace) == .denied(.emailNotAllowed))
        #expect(emails.evaluate(Self.anonymous) == .denied(.noEmail))

        let domains = AccessRule(allowEmailDomains: ["EXAMPLE.com"])
        #expect(domains.evaluate(Self.grace) == .allowed)
        #expect(domains.evaluate(Self.partner) == .denied(.emailNotAllowed), "a subdomain is another domain")

        let groups = AccessRule(allowGroups: ["admins", "ops"])
        #expect(groups.evaluate(Self.ada) == .allowed)
        #expect(groups.evaluate(Self.anonymous) == .allowed, "group rules need no email")
        #expect(groups.evaluate(Self.grace) == .denied(.notInAllowedGroup))
        #expect(AccessRule(allowGroups: ["Admins"]).evaluate(Self.ada) == .denied(.notInAllowedGroup), "group names compare exactly")
    }

    @Test("email rules need a verified email unless requireVerifiedEmail is false; every list that is set must pass")
    func verificationAndCombination() {
        #expect(AccessRule(allowEmailDomains: ["example.com"]).evaluate(Self.alan) == .denied(.emailNotVerified))
        #expect(AccessRule(allowEmailDomains: ["example.com"], requireVerifiedEmail: false).evaluate(Self.alan) == .allowed)
        #expect(AccessRule(allowGroups: ["staff"], requireVerifiedEmail: true).evaluate(Self.grace) == .allowed)

        let both = AccessRule(allowEmails: ["pat@sub.example.com"], allowEmailDomains: ["example.com"], allowGroups: ["admins"])
        #expect(both.evaluate(Self.ada) == .allowed, "a domain match is enough within emails and domains")
        #expect(both.evaluate(Self.partner) == .allowed, "an email match is enough within emails and domains")
        #expect(both.evaluate(Self.grace) == .denied(.notInAllowedGroup), "and the groups must pass too")
        #expect(both.evaluate(Self.anonymous) == .denied(.noEmail))
        #expect(AccessRule(allowEmails: [], allowEmailDomains: [], allowGroups: []).admitsEveryone, "an empty list is no list")
    }

    @Test("the longest matching prefix wins; no match is authenticated; a prefix ending in / covers the path without it")
    func routePrecedence() {
        let admins = AccessRule(allowGroups: ["admins"])
        let policy = AccessPolicy(routes: [
            .init(pathPrefix: "/", requirement: .public),
            .init(pathPrefix: "/app/", requirement: .authenticated),
            .init(pathPrefix: "/app/admin/", requirement: .rules(admins)),
            .init(pathPrefix: "/app/admin/status", requirement: .public),
        ])
        #expect(policy.requirement(forPath: "/") == .public)
        #expect(policy.requirement(forPath: "/about") == .public)
        #expect(policy.requirement(forPath: "/app/home") == .authenticated)
        #expect(policy.requirement(forPath: "/app/admin/users") == .rules(admins))
        #expect(policy.requirement(forPath: "/app/admin") == .rules(admins))
        #expect(policy.requirement(forPath: "/app/admin/status") == .public)
        #expect(policy.requirement(forPath: "/app/administrator") == .authenticated, "prefixes are compared as written")
        #expect(AccessPolicy().requirement(forPath: "/anything") == .authenticated)
    }

    @Test(
        "forwarded paths are normalized before matching: dot segments, encoded dots, repeated slashes; malformed ones are refused",
        arguments: [
            ("/public/../admin/", "/admin/"),
            ("/public/%2e%2e/admin", "/admin"),
            ("/public/%2E%2E/%2e/admin?x=/public/", "/admin"),
            ("//admin//users", "/admin/users"),
            ("/a/./b/", "/a/b/"),
            ("/../../etc", "/etc"),
            ("/", "/"),
            ("/app?next=/public/", "/app"),
            ("/api/group%2Fproject", "/api/group%2Fproject"),
            ("/caf%C3%A9", "/café"),
        ]
    )
    func normalization(raw: String, normalized: String) {
        #expect(RequestPath.normalized(raw) == normalized)
    }

    @Test(
        "a path servers read differently has every reading: encoded separators, ;parameters and backslashes split it too",
        arguments: [
            ("/admin%2Fusers", ["/admin%2Fusers", "/admin/users"]),
            ("/public/..%2Fadmin", ["/public/..%2Fadmin", "/admin"]),
            ("/public/..;/admin/", ["/public/..;/admin/", "/admin/"]),
            ("/public\\..\\admin", ["/public\\..\\admin", "/admin"]),
            ("/admin;jsessionid=1/x", ["/admin;jsessionid=1/x", "/admin/x"]),
            ("/plain/path", ["/plain/path"]),
        ]
    )
    func readings(raw: String, readings: [String]) {
        #expect(RequestPath.readings(raw) == readings)
    }

    @Test("every reading, and the case-blind match, must pass: /ADMIN/ and /admin%2F are the admins' too, and public subpaths stay public")
    func readingsRequirements() {
        let admins = AccessRule(allowGroups: ["admins"])
        let policy = AccessPolicy(routes: [
            .init(pathPrefix: "/public/", requirement: .public),
            .init(pathPrefix: "/admin/", requirement: .rules(admins)),
            .init(pathPrefix: "/app/", requirement: .rules(AccessRule(allowGroups: ["staff"]))),
            .init(pathPrefix: "/app/help/", requirement: .public),
        ])
        func requirements(_ raw: String) -> [AccessPolicy.Requirement] { policy.requirements(forReadings: RequestPath.readings(raw) ?? []) }
        #expect(requirements("/ADMIN/users").contains(.rules(admins)))
        #expect(requirements("/admin%2Fusers").contains(.rules(admins)))
        #expect(requirements("/public/..;/admin/").contains(.rules(admins)))
        #expect(requirements("/public/page") == [.public])
        #expect(requirements("/app/help/faq") == [.public], "a longer public prefix under a restricted one stays public")
        #expect(requirements("/APP/HELP/faq") == [.authenticated, .public])
    }

    @Test("emails and domains compare by ASCII case only: the Kelvin sign is not a k")
    func asciiCase() {
        let rule = AccessRule(allowEmailDomains: ["key.example"])
        #expect(rule.evaluate(AccessIdentity(userID: "u", email: "a@KEY.example", emailVerified: true)) == .allowed)
        #expect(rule.evaluate(AccessIdentity(userID: "u", email: "a@\u{212A}ey.example", emailVerified: true)) == .denied(.emailNotAllowed))
    }

    @Test(
        "a forwarded path that is not one reads as nil",
        arguments: [
            "admin", "", "/bad%zz", "/nul%00byte", "/tab%09", "http://evil/admin", "/admin/?\u{301}/../../public/", "/admin/\u{301}/..", "/caf\u{E9}",
            "/with space", "/%C3%28", "/public/%A9", "/public/%a9/x", "/caf%E9", "/%FF", "/x%80y", "/%ED%A0%80",
        ]
    )
    func malformedPaths(raw: String) {
        #expect(RequestPath.normalized(raw) == nil)
    }

    @Test("a plain path reads as itself without decoding, exactly as the full reading reads it, for 50,000 generated paths")
    func plainPathShortcut() {
        let alphabet = Array("/ab.%2F5c;\\?#-é ~".utf8CString.dropLast().map { UInt8(bitPattern: $0) })
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var plain = 0
        for _ in 0..<50_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var bytes: [UInt8] = [UInt8(ascii: "/")]
            for step in 0..<Int(state >> 60) {
                bytes.append(alphabet[Int((state >> (UInt64(step % 8) * 6)) & 0x3F) % alphabet.count])
            }
            let raw = String(decoding: bytes, as: UTF8.self)
            if RequestPath.plainPath(raw) != nil { plain += 1 }
            #expect(RequestPath.readings(raw) == RequestPath.decodedReadings(raw), "\(raw)")
        }
        #expect(plain > 1000, "the generated paths include plain ones")
        #expect(RequestPath.plainPath("/reports/q3?sort=desc") == "/reports/q3")
        #expect(RequestPath.plainPath("/a/./b") == nil && RequestPath.plainPath("/a//b") == nil && RequestPath.plainPath("/a%2Fb") == nil)
    }

    @Test("groups, verification and username come from the provider's own members; nested and dotted claim names work")
    func identityFromProfiles() {
        let oidc = UserProfile(
            id: "sub-1",
            email: "ada@example.com",
            name: "Ada",
            attributes: [
                "email_verified": .string("true"),
                "groups": .array([.string("admins"), .integer(3), .string("")]),
                "preferred_username": .string("ada"),
                "realm_access": .object(["roles": .array([.string("realm-admin")])]),
                "https://example.com/roles": .string("editor"),
            ]
        )
        let standard = AccessIdentity(profile: oidc, claims: .openIDConnect)
        #expect(standard == AccessIdentity(userID: "sub-1", email: "ada@example.com", emailVerified: true, groups: ["admins"], preferredUsername: "ada"))
        var nested = ProfileClaimNames.openIDConnect
        nested.groups = "realm_access.roles"
        #expect(AccessIdentity(profile: oidc, claims: nested).groups == ["realm-admin"])
        nested.groups = "https://example.com/roles"
        #expect(AccessIdentity(profile: oidc, claims: nested).groups == ["editor"], "a claim name with dots is read whole first")

        let loginRadius = UserProfile(
            id: "uid",
            email: "grace@example.com",
            name: nil,
            attributes: ["EmailVerified": .bool(true), "Roles": .array([.string("staff")]), "UserName": .string("gracehopper"), "email_verified": .bool(false)]
        )
        #expect(
            AccessIdentity(profile: loginRadius, claims: .loginRadius)
                == AccessIdentity(userID: "uid", email: "grace@example.com", emailVerified: true, groups: ["staff"], preferredUsername: "gracehopper")
        )
        let bare = AccessIdentity(profile: UserProfile(id: "x", email: nil, name: nil, attributes: ["groups": .bool(true)]), claims: .openIDConnect)
        #expect(bare == AccessIdentity(userID: "x", email: nil), "mistyped claims read as absent")
        #expect(bare.emailVerified == nil, "a provider that says nothing of the email")
        #expect(AccessRule(allowEmailDomains: ["example.com"]).evaluate(AccessIdentity(userID: "x", email: "x@example.com")) == .denied(.emailNotVerified))
    }

    @Test("trusted proxies: CIDR ranges of either family, single addresses, IPv4 written as IPv6; anything else is refused")
    func trustedProxies() throws {
        let proxies = try TrustedProxies.parse(["10.0.0.0/8", "192.168.1.7", "fd00::/8"]).get()
        func address(_ text: String) throws -> SocketAddress { try SocketAddress(ipAddress: text, port: 4000) }
        #expect(proxies.contains(try address("10.200.3.4")))
        #expect(proxies.contains(try address("192.168.1.7")))
        #expect(!proxies.contains(try address("192.168.1.8")))
        #expect(proxies.contains(try address("fd12::1")))
        #expect(!proxies.contains(try address("fe80::1")))
        #expect(proxies.contains(try address("::ffff:10.1.1.1")))
        #expect(!proxies.contains(try address("11.0.0.1")))
        #expect(!proxies.contains(nil))
        let mapped = try TrustedProxies.parse(["::ffff:10.0.0.0/104"]).get()
        #expect(mapped.contains(try address("10.9.8.7")))
        #expect(mapped.contains(try address("::ffff:10.9.8.7")))
        #expect(!mapped.contains(try address("11.0.0.1")))
        #expect(TrustedProxies.loopback.contains(try address("127.0.0.1")))
        #expect(TrustedProxies.loopback.contains(try address("::1")))
        #expect(!TrustedProxies.loopback.contains(try address("10.0.0.1")))
        #expect(try TrustedProxies.parse([]).get() != TrustedProxies.loopback)
        for bad in ["10.0.0.0/33", "localhost", "10.0.0/8", "::1/129", "10.0.0.0/-1", ""] {
            #expect(throws: TrustedProxies.InvalidRange(entry: bad)) { try TrustedProxies.parse([bad]).get() }
        }
    }
}
