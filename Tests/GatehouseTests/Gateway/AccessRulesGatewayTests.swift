import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Gatehouse

@Suite("Access rules at the gateway")
struct AccessRulesGatewayTests {
    static let originalURI = HTTPField.Name("X-Original-URI")!
    static let forwardedURI = HTTPField.Name("X-Forwarded-Uri")!

    /// A harness whose access section is `access`, with revalidation every `revalidateAfter` seconds.
    static func harness(_ access: GatehouseConfiguration.Access, revalidateAfter: TimeInterval = 30) -> GatewayHarness {
        var harness = GatewayHarness(revalidateAfter: revalidateAfter)
        harness.configuration.access = access
        return harness
    }

    static func access(
        allowEmails: [String] = [],
        allowEmailDomains: [String] = [],
        allowGroups: [String] = [],
        requireVerifiedEmail: Bool = true,
        routes: [AccessPolicy.Route] = [],
        trustedProxies: [String]? = nil,
        passAccessToken: Bool = false
    ) -> GatehouseConfiguration.Access {
        var access = GatehouseConfiguration.Access()
        access.policy = AccessPolicy(
            sessionRule: AccessRule(
                allowEmails: allowEmails,
                allowEmailDomains: allowEmailDomains,
                allowGroups: allowGroups,
                requireVerifiedEmail: requireVerifiedEmail
            ),
            routes: routes
        )
        if let trustedProxies { access.trustedProxies = try! TrustedProxies.parse(trustedProxies).get() }
        access.passAccessToken = passAccessToken
        return access
    }

    @Test("a user the rules turn away gets 403 not_allowed and no session; the page names the account; the token is revoked; the failure is counted")
    func deniedLogin() async throws {
        let harness = Self.harness(Self.access(allowGroups: ["admins"]))
        try await harness.run { client in
            var grace = Browser(client)
            let callback = try await grace.startLogin()
            let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.graceID))
            let json = try await grace.get("\(callback)?token=\(token.value)")
            #expect(json.status == .forbidden)
            #expect(json.json?.objectValue?["error"] == .string("not_allowed"))
            #expect(json.headers[values: .setCookie].allSatisfy { !$0.hasPrefix("gatehouse_session=") || $0.contains("Max-Age=0") })
            #expect(await harness.sessionCount == 0)
            #expect(await harness.directory.liveUserID(forToken: token.value) == nil, "what the provider issued is revoked")
            #expect(try await grace.get("/dashboard").status == .unauthorized)

            var page = Browser(client)
            let pageCallback = try await page.startLogin()
            let pageToken = try #require(await harness.directory.issueToken(forUserID: TestFixtures.graceID))
            let html = try await page.get("\(pageCallback)?token=\(pageToken.value)", accept: "text/html")
            #expect(html.status == .forbidden)
            let text = String(buffer: html.body)
            #expect(text.contains("grace@example.com") && text.contains("may not use this site"))
            #expect(!text.contains(pageToken.value))
            #expect(await harness.sessionCount == 0)

            var ada = Browser(client)
            #expect(try await ada.logIn(directory: harness.directory).status == .seeOther)
            #expect(try await ada.get("/dashboard").status == .ok)
            #expect(await harness.sessionCount == 1)

            let metrics = try await MetricsTests.scrape(client)
            #expect(metrics.value(#"gatehouse_logins_failed_total{reason="not_allowed"}"#) == 2)
            #expect(metrics.value("gatehouse_logins_succeeded_total") == 1)
            #expect(harness.logs.allText.contains("Login refused by the access rules"))
            #expect(harness.logs.allText.contains("none of the allowed groups"))
            #expect(!harness.logs.allText.contains(token.value))
        }
    }

    @Test(
        "email rules: a domain lets its verified users in, an unverified email is refused unless requireVerifiedEmail is false",
        arguments: [
            (Self.access(allowEmailDomains: ["example.com"]), [TestFixtures.adaID: true, TestFixtures.graceID: true, TestFixtures.alanID: false]),
            (Self.access(allowEmailDomains: ["EXAMPLE.COM"], requireVerifiedEmail: false), [TestFixtures.alanID: true]),
            (Self.access(allowEmails: ["grace@example.com"]), [TestFixtures.adaID: false, TestFixtures.graceID: true]),
            (Self.access(allowEmailDomains: ["example.org"]), [TestFixtures.adaID: false]),
            (Self.access(allowEmailDomains: ["example.com"], allowGroups: ["staff"]), [TestFixtures.graceID: true, TestFixtures.alanID: false]),
            (Self.access(), [TestFixtures.alanID: true]),
        ]
    )
    func loginRules(access: GatehouseConfiguration.Access, expected: [String: Bool]) async throws {
        let harness = Self.harness(access)
        try await harness.run { client in
            for (user, allowed) in expected {
                var browser = Browser(client)
                let response = try await browser.logIn(as: user, directory: harness.directory)
                #expect(response.status == (allowed ? .seeOther : .forbidden), "user \(user)")
                #expect(try await browser.get("/auth").status == (allowed ? .ok : .unauthorized))
            }
            #expect(await harness.sessionCount == expected.values.filter { $0 }.count)
        }
    }

    @Test("at revalidation the rules are checked again: a user who lost the group is refused (403), the session ends, and stays ended")
    func revalidationEndsSession() async throws {
        let harness = Self.harness(Self.access(allowGroups: ["admins"]), revalidateAfter: 0)
        try await harness.run { client in
            var ada = Browser(client)
            try await ada.logIn(directory: harness.directory)
            #expect(try await ada.get("/auth").headers[IdentityHeaders.groups] == "admins,staff")
            #expect(await harness.directory.setRoles(["staff"], forUserID: TestFixtures.adaID))

            let refused = try await ada.get("/auth")
            #expect(refused.status == .forbidden)
            #expect(refused.headers[IdentityHeaders.user] == nil)
            #expect(await harness.sessionCount == 0)
            #expect(try await ada.get("/auth").status == .unauthorized, "the session is gone, not merely refused once")

            var again = Browser(client)
            try await again.logIn(directory: harness.directory)
            #expect(await harness.sessionCount == 0, "nor can the user sign in again")
        }
    }

    @Test("a gated page for a refused session is 403 not_allowed (HTML names the account), not a loop through the login page")
    func refusedPage() async throws {
        let live = LiveSettings(configuration: Self.harness(Self.access()).configuration)
        let harness = Self.harness(Self.access())
        try await harness.run(live: live) { client in
            var grace = Browser(client)
            try await grace.logIn(as: TestFixtures.graceID, directory: harness.directory)
            #expect(try await grace.get("/dashboard").status == .ok)

            // A reload tightens the rules: the live session is refused at its next request.
            var tightened = harness.configuration
            tightened.access = Self.access(allowGroups: ["admins"])
            live.apply(tightened)
            let page = try await grace.get("/dashboard", accept: "text/html")
            #expect(page.status == .forbidden)
            #expect(String(buffer: page.body).contains("grace@example.com"))
            #expect(page.headers[values: .setCookie].contains { $0.hasPrefix("gatehouse_session=") && $0.contains("Max-Age=0") })
            #expect(await harness.sessionCount == 0)
            #expect(try await grace.get("/dashboard").status == .unauthorized)

            // And loosening them lets the user back in.
            live.apply(harness.configuration)
            try await grace.logIn(as: TestFixtures.graceID, directory: harness.directory)
            #expect(try await grace.get("/dashboard").status == .ok)
        }
    }

    static let policyRoutes: [AccessPolicy.Route] = [
        .init(pathPrefix: "/public/", requirement: .public),
        .init(pathPrefix: "/admin/", requirement: .rules(AccessRule(allowGroups: ["admins"]))),
        .init(pathPrefix: "/staff/", requirement: .rules(AccessRule(allowEmails: ["grace@example.com"]))),
    ]

    @Test("/auth applies the longest prefix of the forwarded path: public needs nothing, rules need their users; identity headers on 200")
    func routePolicies() async throws {
        let harness = Self.harness(Self.access(routes: Self.policyRoutes))
        try await harness.run(.live) { client in
            func check(_ browser: inout Browser, _ path: String, header: HTTPField.Name = Self.originalURI) async throws -> TestResponse {
                try await browser.get("/auth", headers: [header: path])
            }
            var anonymous = Browser(client)
            let open = try await check(&anonymous, "/public/page?x=1")
            #expect(open.status == .ok)
            #expect(open.headers[IdentityHeaders.user] == nil, "a public route gets no identity headers")
            #expect(try await check(&anonymous, "/app/home").status == .unauthorized)
            #expect(try await check(&anonymous, "/admin/", header: Self.forwardedURI).status == .unauthorized)
            #expect(try await check(&anonymous, "/public/../admin/").status == .unauthorized, "dot segments do not escape into a public prefix")
            #expect(try await check(&anonymous, "/public/%2e%2e/admin/").status == .unauthorized)

            var grace = Browser(client)
            try await grace.logIn(as: TestFixtures.graceID, directory: harness.directory)
            let app = try await check(&grace, "/app/home")
            #expect(app.status == .ok)
            #expect(app.headers[IdentityHeaders.user] == TestFixtures.graceID)
            #expect(app.headers[IdentityHeaders.email] == "grace@example.com")
            #expect(app.headers[IdentityHeaders.groups] == "staff")
            #expect(app.headers[IdentityHeaders.preferredUsername] == "gracehopper")
            #expect(app.headers[IdentityHeaders.accessToken] == nil && app.headers[.authorization] == nil)
            #expect(try await check(&grace, "/admin/users").status == .forbidden)
            #expect(try await check(&grace, "/admin").status == .forbidden, "/admin/ covers /admin")
            #expect(try await check(&grace, "/staff/rota", header: Self.forwardedURI).status == .ok)
            #expect(try await check(&grace, "/bad%zz").status == .forbidden, "a forwarded path that is not one passes nothing")
            #expect(try await check(&grace, "/admin%2Fusers").status == .forbidden, "an app may decode %2F into a separator")
            #expect(try await check(&grace, "/ADMIN/users").status == .forbidden, "an app may route without regard to case")
            #expect(try await check(&grace, "/public/..;/admin/").status == .forbidden, "an app may drop ;parameters")
            #expect(try await check(&anonymous, "/public/..%5Cadmin/").status == .unauthorized)

            var ada = Browser(client)
            try await ada.logIn(directory: harness.directory)
            let admin = try await check(&ada, "/admin/users")
            #expect(admin.status == .ok)
            #expect(admin.headers[IdentityHeaders.groups] == "admins,staff")
            #expect(try await check(&ada, "/staff/rota").status == .forbidden, "a route's lists replace the top-level ones")
        }
    }

    @Test("per-location rules in the query narrow any route, public ones included; both forwarded headers must pass")
    func locationRulesAndBothHeaders() async throws {
        let harness = Self.harness(Self.access(routes: Self.policyRoutes))
        try await harness.run(.live) { client in
            var anonymous = Browser(client)
            #expect(try await anonymous.get("/auth?allowed_groups=admins", headers: [Self.originalURI: "/public/x"]).status == .unauthorized)
            #expect(
                try await anonymous.get("/auth", headers: [Self.originalURI: "/admin/", Self.forwardedURI: "/public/"]).status == .unauthorized,
                "a client's own X-Forwarded-Uri cannot open what the proxy's X-Original-URI names"
            )

            var grace = Browser(client)
            try await grace.logIn(as: TestFixtures.graceID, directory: harness.directory)
            #expect(try await grace.get("/auth?allowed_groups=admins,ops", headers: [Self.originalURI: "/app/"]).status == .forbidden)
            #expect(try await grace.get("/auth?allowed_groups=ops,staff", headers: [Self.originalURI: "/app/"]).status == .ok)
            #expect(
                try await grace.get("/auth?allowed_groups=staff&allowed_groups=ops", headers: [Self.originalURI: "/app/"]).status == .forbidden,
                "each occurrence must pass on its own: text appended to a location's query only narrows it"
            )
            #expect(try await grace.get("/auth?allowed_groups=", headers: [:]).status == .forbidden, "an empty list lets no one in")
            #expect(try await grace.get("/auth?allowed_email_domains=example.com", headers: [:]).status == .ok)
            #expect(try await grace.get("/auth?allowed_emails=ada@example.com", headers: [:]).status == .forbidden)
            #expect(try await grace.get("/auth", headers: [Self.originalURI: "/admin/", Self.forwardedURI: "/public/"]).status == .forbidden)

            var ada = Browser(client)
            try await ada.logIn(directory: harness.directory)
            #expect(try await ada.get("/auth?allowed_groups=admins", headers: [Self.originalURI: "/public/x"]).status == .ok)
            #expect(try await ada.get("/auth?allowed_emails=ADA@example.com", headers: [:]).status == .ok)
        }
    }

    @Test("forwarded headers from an address outside trustedProxies change nothing: the answer is the one for /")
    func untrustedProxy() async throws {
        // Loopback (where the test client connects from) is not trusted here.
        let routes: [AccessPolicy.Route] = [
            .init(pathPrefix: "/", requirement: .rules(AccessRule(allowGroups: ["admins"]))),
            .init(pathPrefix: "/public/", requirement: .public),
            .init(pathPrefix: "/staff/", requirement: .authenticated),
        ]
        let harness = Self.harness(Self.access(routes: routes, trustedProxies: ["10.0.0.0/8"]))
        try await harness.run(.live) { client in
            let spoofs: [HTTPFields] = [
                [:],
                [Self.originalURI: "/public/"],
                [Self.forwardedURI: "/public/x"],
                [Self.forwardedURI: "/staff/", HTTPField.Name("X-Forwarded-Method")!: "GET"],
            ]
            var anonymous = Browser(client)
            var grace = Browser(client)
            try await grace.logIn(as: TestFixtures.graceID, directory: harness.directory)
            var ada = Browser(client)
            try await ada.logIn(directory: harness.directory)
            for headers in spoofs {
                #expect(try await anonymous.get("/auth", headers: headers).status == .unauthorized, "\(headers)")
                #expect(try await grace.get("/auth", headers: headers).status == .forbidden, "\(headers)")
                #expect(try await ada.get("/auth", headers: headers).status == .ok, "\(headers)")
            }
        }
        // The same headers from a trusted address do count.
        let trusting = Self.harness(Self.access(routes: routes))
        try await trusting.run(.live) { client in
            var anonymous = Browser(client)
            let answer = try await anonymous.get("/auth", headers: [Self.forwardedURI: "/public/x"])
            #expect(answer.status == .ok)
        }
    }

    @Test("the email goes to the app only when it is verified, unless requireVerifiedEmail is false")
    func verifiedEmailHeader() async throws {
        for require in [true, false] {
            let harness = Self.harness(Self.access(requireVerifiedEmail: require))
            try await harness.run { client in
                var alan = Browser(client)
                try await alan.logIn(as: TestFixtures.alanID, directory: harness.directory)
                let answer = try await alan.get("/auth")
                #expect(answer.status == .ok)
                #expect(answer.headers[IdentityHeaders.user] == TestFixtures.alanID)
                #expect(answer.headers[IdentityHeaders.email] == (require ? nil : "alan@example.com"))
                var ada = Browser(client)
                try await ada.logIn(directory: harness.directory)
                #expect(try await ada.get("/auth").headers[IdentityHeaders.email] == "ada@example.com")
            }
        }
    }

    @Test("the access token goes to the app only when passAccessToken is set")
    func accessToken() async throws {
        for pass in [false, true] {
            let harness = Self.harness(Self.access(passAccessToken: pass))
            try await harness.run { client in
                var ada = Browser(client)
                let callback = try await ada.startLogin()
                let token = try #require(await harness.directory.issueToken(forUserID: TestFixtures.adaID))
                try await ada.get("\(callback)?token=\(token.value)")
                let answer = try await ada.get("/auth")
                #expect(answer.status == .ok)
                #expect(answer.headers[IdentityHeaders.accessToken] == (pass ? token.value : nil))
                #expect(answer.headers[.authorization] == (pass ? "Bearer \(token.value)" : nil))
            }
        }
    }

    @Test("POST /logout with everywhere=1 ends every session of the user (form or query), and no one else's; the landing page offers it")
    func logoutEverywhere() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            var laptop = Browser(client)
            var phone = Browser(client)
            var tablet = Browser(client)
            var grace = Browser(client)
            try await laptop.logIn(directory: harness.directory)
            try await phone.logIn(directory: harness.directory)
            try await tablet.logIn(directory: harness.directory)
            try await grace.logIn(as: TestFixtures.graceID, directory: harness.directory)
            #expect(await harness.sessionCount == 4)

            let home = String(buffer: try await laptop.get("/", accept: "text/html").body)
            #expect(home.contains(#"name="everywhere" value="1""#) && home.contains("Log out everywhere"))

            let ended = try await laptop.post("/logout", form: "everywhere=1")
            #expect(ended.status == .ok)
            #expect(ended.json?.objectValue?["sessionsEnded"] == .integer(3))
            #expect(await harness.sessionCount == 1)
            for var browser in [laptop, phone, tablet] {
                #expect(try await browser.get("/auth").status == .unauthorized)
            }
            #expect(try await grace.get("/auth").status == .ok)

            // By query, and for a browser: the same, then the afterLogout page.
            try await phone.logIn(directory: harness.directory)
            try await tablet.logIn(directory: harness.directory)
            let browserAnswer = try await phone.post("/logout?everywhere=1", accept: "text/html")
            #expect(browserAnswer.status == .seeOther)
            #expect(await harness.sessionCount == 1)

            // A form that cannot be read logs nothing out, rather than passing for a plain logout.
            try await phone.logIn(directory: harness.directory)
            let oversized = try await phone.post("/logout", form: "everywhere=1&pad=" + String(repeating: "x", count: 5000))
            #expect(oversized.status == .badRequest)
            #expect(try await phone.get("/auth").status == .ok)
            try await phone.post("/logout")

            // Plain POST /logout still ends just the one.
            try await phone.logIn(directory: harness.directory)
            try await tablet.logIn(directory: harness.directory)
            try await phone.post("/logout")
            #expect(await harness.sessionCount == 2)
            #expect(try await tablet.get("/auth").status == .ok)
        }
    }
}
