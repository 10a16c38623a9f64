import Foundation
import Testing

@testable import Gatehouse

@Suite("LoginRadius answers")
struct LoginRadiusResponseTests {
    static let errors: [String: JSONValue] = {
        (try! JSONValue(parsing: TestFixtures.sample("loginradius-errors.json"))).objectValue!
    }()

    func errorSample(_ name: String) -> (status: Int, body: Data) {
        let sample = Self.errors[name]!
        return (Int(sample["status"]!.integerValue!), sample["body"]!.encoded())
    }

    func failure(status: Int, body: String) -> ProviderError? {
        failure(status: status, data: Data(body.utf8))
    }

    func failure(status: Int, data: Data) -> ProviderError? {
        do {
            _ = try LoginRadiusResponse.profile(status: status, body: data)
            return nil
        } catch {
            return error
        }
    }

    @Test("a real profile decodes: Uid, primary email, full name, all attributes")
    func profile() throws {
        let profile = try LoginRadiusResponse.profile(status: 200, body: TestFixtures.sample("loginradius-profile.json"))
        #expect(profile.id == "f2005bd2b4a24b5e9d5f1c0e7a3b9c41")
        #expect(profile.email == "ada@example.com")
        #expect(profile.name == "Ada Lovelace")
        #expect(profile.attributes["NoOfLogins"] == .integer(12))
        #expect(profile.attributes["Country"]?["Code"] == .string("GB"))
    }

    /// Profiles with a raw control character, invalid UTF-8 or an overlong encoding in a member
    /// nobody reads, and one behind a byte-order mark.
    static let strictTextCases: [Data] = {
        let note: (_ bytes: [UInt8]) -> Data = { bytes in
            var body = Data(#"{"Uid": "u1", "Note": "a"#.utf8)
            body.append(contentsOf: bytes)
            body.append(contentsOf: #"b"}"#.utf8)
            return body
        }
        var bom = Data([0xEF, 0xBB, 0xBF])
        bom.append(contentsOf: #"{"Uid": "u1"}"#.utf8)
        // Numbers and escapes the decoder skims in members it is not asked for; the first was
        // found by the fuzzer (FuzzLoginRadiusResponse) in the fixture profile.
        let skimmed = [
            #""NoOfLogins": 06"#, #""N": 1."#, #""N": -"#, #""N": 1e"#, #""N": 1e+"#, #""N": -01.5"#, #""N": 1.5e3x"#, #""N": +1"#,
            #""N": "\x""#, #""N": "\u12G4""#, #""N": "\u12""#, #""N": [1, 2., 3]"#, #""N": {"M": 00}"#,
        ].map { Data(#"{"Uid": "u1", "#.utf8) + Data($0.utf8) + Data("}".utf8) }
        return [note([0x01]), note([0xFF, 0xFE]), note([0xC0, 0xAF]), bom] + skimmed
    }()

    @Test("strict numbers and escapes in members nobody reads are kept as they are")
    func strictMembersKept() throws {
        let body = #"{"Uid": "u1", "A": -0.5e+10, "B": [0, 10, 1E2, -3], "C": "tab\there \u00e9 \" \\ \/", "D": {"E": 0.25}}"#
        let profile = try LoginRadiusResponse.profile(status: 200, body: Data(body.utf8))
        #expect(profile.json == Data(body.utf8), "no re-encoding when the text is strict")
    }

    @Test("the profile object is kept as the provider's text, and embeds as valid JSON")
    func profileText() throws {
        let sample = try TestFixtures.sample("loginradius-profile.json")
        let profile = try LoginRadiusResponse.profile(status: 200, body: Data("\n  ".utf8) + sample + Data(" \r\n".utf8))
        #expect(profile.json.first == UInt8(ascii: "{") && profile.json.last == UInt8(ascii: "}"), "surrounding whitespace is trimmed")
        #expect(try JSONValue(parsing: profile.json) == JSONValue(parsing: sample))
        let dashboard = try JSONValue(parsing: DashboardController<GatewayRequestContext>.body(for: profile))
        #expect(dashboard["profile"] == (try JSONValue(parsing: sample)))
        #expect(dashboard["user"]?["email"] == .string("ada@example.com"))
    }

    @Test("a revalidation answer that is the current profile's text byte for byte is the current profile; any other is read afresh")
    func unchangedProfileAnswer() throws {
        let sample = try TestFixtures.sample("loginradius-profile.json")
        let current = try LoginRadiusResponse.profile(status: 200, body: sample)
        // Not decoded again: a profile that is not what the text says comes back as it is.
        let marked = UserProfile(id: "as-stored", email: nil, name: nil, json: current.json)
        #expect(try LoginRadiusResponse.profile(status: 200, body: current.json, current: marked).id == "as-stored")
        // Another text, even one that means the same, is decoded.
        let respaced = Data("  ".utf8) + current.json
        #expect(try LoginRadiusResponse.profile(status: 200, body: respaced, current: marked).id == current.id)
        // So is a text of the same length with one byte changed.
        var altered = current.json
        altered[altered.firstIndex(of: UInt8(ascii: "L"))!] = UInt8(ascii: "M")
        #expect(try LoginRadiusResponse.profile(status: 200, body: altered, current: marked).id == current.id)
        // The same text with a failing status is still a failure.
        for status in [401, 403, 500, 302] {
            #expect(throws: ProviderError.self, "HTTP \(status)") {
                try LoginRadiusResponse.profile(status: status, body: current.json, current: current)
            }
        }
        let rejected = #"{"ErrorCode": 906, "Message": "Access token is expired"}"#
        #expect(throws: ProviderError.self) {
            try LoginRadiusResponse.profile(status: 200, body: Data(rejected.utf8), current: current)
        }
    }

    @Test(
        "a profile with text a strict JSON reader refuses, in a member the gateway does not read, is refused or re-encoded",
        arguments: strictTextCases
    )
    func strictText(_ body: Data) throws {
        guard let profile = try? LoginRadiusResponse.profile(status: 200, body: body) else { return }
        #expect(String(validating: profile.json, as: UTF8.self) != nil)
        #expect(!profile.json.contains(0x01))
        #expect((try? JSONValue(parsing: profile.json))?.objectValue != nil)
        #expect(profile.json.first == UInt8(ascii: "{"))
    }

    @Test("a stored profile reads back whole; stored profiles of the earlier JSON form still read; garbage does not")
    func storedRepresentation() throws {
        let profile = try LoginRadiusResponse.profile(status: 200, body: TestFixtures.sample("loginradius-profile.json"))
        let restored = try #require(UserProfile(storedRepresentation: profile.storedRepresentation))
        #expect(restored.id == profile.id && restored.email == profile.email && restored.name == profile.name && restored.json == profile.json)
        let bare = UserProfile(id: "u", email: nil, name: nil, json: Data("{}".utf8))
        #expect(UserProfile(storedRepresentation: bare.storedRepresentation)?.email == nil)

        let legacy = Data(#"{"id": "u1", "email": "u1@example.com", "name": null, "attributes": {"Uid": "u1", "NoOfLogins": 3}}"#.utf8)
        let read = try #require(UserProfile(storedRepresentation: legacy))
        #expect(read.id == "u1" && read.email == "u1@example.com" && read.name == nil)
        #expect(read.attributes["NoOfLogins"] == .integer(3))

        let stored = profile.storedRepresentation
        for broken in [Data(), Data([2]), stored.dropLast(), stored + Data([0]), Data([1, 1, 0xFF, 0xFF, 0xFF, 0xFF])] {
            #expect(UserProfile(storedRepresentation: broken) == nil)
        }
    }

    @Test("ID stands in for Uid; names fall back to first/last and user name")
    func fallbacks() throws {
        let profile = try LoginRadiusResponse.profile(
            status: 200,
            body: Data(#"{"ID": "x1", "FirstName": "Grace", "LastName": "Hopper", "Email": [{"Type": "Secondary", "Value": "g@example.com"}]}"#.utf8)
        )
        #expect(profile.id == "x1")
        #expect(profile.name == "Grace Hopper")
        #expect(profile.email == "g@example.com")
        let bare = try LoginRadiusResponse.profile(status: 200, body: Data(#"{"Uid": "u", "UserName": "gh"}"#.utf8))
        #expect(bare.name == "gh")
        #expect(bare.email == nil)
    }

    @Test(
        "token errors are 'token rejected'",
        arguments: ["tokenInvalid", "tokenExpired", "tokenMissing"]
    )
    func tokenRejected(_ name: String) {
        let sample = errorSample(name)
        #expect(failure(status: sample.status, data: sample.body)?.kind == .tokenRejected)
    }

    @Test("API key errors are 'misconfigured'", arguments: ["apiKeyInvalid", "apiKeyMissing"])
    func misconfigured(_ name: String) {
        let sample = errorSample(name)
        #expect(failure(status: sample.status, data: sample.body)?.kind == .misconfigured)
    }

    @Test("API secret error 902 is 'misconfigured'")
    func apiSecret() {
        #expect(failure(status: 403, body: #"{"ErrorCode": 902, "Message": "API secret is invalid"}"#)?.kind == .misconfigured)
    }

    @Test("an ErrorCode with status 200 is still a failure")
    func errorCodeWith200() {
        #expect(failure(status: 200, body: #"{"Uid": "u", "ErrorCode": 905, "Message": "Access token is invalid"}"#)?.kind == .tokenRejected)
        #expect(failure(status: 200, body: #"{"ErrorCode": 1234}"#)?.kind == .badResponse)
        #expect(failure(status: 200, body: #"{"ErrorCode": "906"}"#)?.kind == .tokenRejected)
    }

    @Test("429 is 'rate limited' whatever the body")
    func rateLimited() {
        #expect(failure(status: 429, body: "slow down")?.kind == .rateLimited)
        #expect(failure(status: 429, body: #"{"ErrorCode": 1134}"#)?.kind == .rateLimited)
    }

    @Test(
        "garbage is a bad response",
        arguments: [
            (200, "not json"), (200, "<html>hello</html>"), (200, "[]"), (200, #"{"Uid": ""}"#), (200, #"{"FirstName": "x"}"#),
            (200, #""Uid""#), (200, ""), (500, #"{"Uid": "u"}"#), (502, "Bad Gateway"), (302, ""), (404, "{}"),
        ]
    )
    func badResponse(status: Int, body: String) {
        #expect(failure(status: status, body: body)?.kind == .badResponse)
    }

    @Test("invalidation needs IsPosted true")
    func invalidation() throws {
        try LoginRadiusResponse.invalidation(status: 200, body: Data(#"{"IsPosted": true}"#.utf8))
        #expect(throws: ProviderError.self) { try LoginRadiusResponse.invalidation(status: 200, body: Data(#"{"IsPosted": false}"#.utf8)) }
        let sample = errorSample("tokenInvalid")
        #expect(throws: ProviderError.tokenRejected(code: 905, reason: "the provider answered error 905 (Access token is invalid)")) {
            try LoginRadiusResponse.invalidation(status: sample.status, body: sample.body)
        }
    }
}

@Suite("Hosted page and tokens")
struct HostedPageTests {
    @Test("the hosted page URL carries the action and the percent-encoded return URL")
    func hostedPageURL() {
        let page = HostedPage(baseURL: "https://my-app.hub.loginradius.com/auth.aspx")
        #expect(
            page.url(for: .login, returnURL: "http://localhost:8080/login/callback/abc_-")
                == "https://my-app.hub.loginradius.com/auth.aspx?action=login&return_url=http%3A%2F%2Flocalhost%3A8080%2Flogin%2Fcallback%2Fabc_-"
        )
        #expect(
            HostedPage(baseURL: "http://idp/auth.aspx?tenant=1").url(for: .register, returnURL: "x").hasPrefix(
                "http://idp/auth.aspx?tenant=1&action=register&"
            )
        )
    }

    @Test("tokens are accepted only in bearer-token characters and bounded length")
    func tokenValidation() {
        #expect(AccessToken(validating: "96688431-0945-4ed5-9115-733521a13a53") != nil)
        for bad in ["", "a b", "a\r\nb", "a\u{0}", "t\u{E9}", "a,b", "a;b", String(repeating: "a", count: 2049)] {
            #expect(AccessToken(validating: bad) == nil, "\(bad.debugDescription) should be refused")
        }
    }

    @Test("tokens and session ids never print their value")
    func redaction() {
        let token = AccessToken("super-secret-token")
        let id = SessionID.generate()
        for text in ["\(token)", String(describing: token), String(reflecting: token), "\(id)", String(reflecting: id), "\([token])"] {
            #expect(!text.contains("super-secret-token"))
            #expect(!text.contains(id.cookieValue))
        }
    }
}
