import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

@testable import Gatehouse

/// Two real servers on loopback: the mock provider and the gateway with the LoginRadius provider.
@Suite("End to end over HTTP", .timeLimit(.minutes(1)))
struct EndToEndTests {
    @Test("login, dashboard, logout revokes at the provider, dashboard afterwards is 401")
    func fullFlow() async throws {
        let stack = LiveStack()
        let secrets = SecretsSeen()
        try await stack.run { stack in
            var browser = Browser(stack.gateway)
            let callback = try await stack.logIn(&browser)
            #expect(callback.status == .seeOther)
            #expect(callback.headers[.location] == "/dashboard")
            secrets.add(try #require(browser.jar["gatehouse_session"]))

            let dashboard = try await browser.get("/dashboard")
            #expect(dashboard.status == .ok)
            #expect(dashboard.json?["user"]?["email"] == .string("ada@example.com"))
            #expect(dashboard.json?["profile"]?["LastLoginLocation"] == .string("London, United Kingdom"))

            let invalidationsBefore = await stack.directory.invalidationCount
            let logout = try await browser.post("/logout")
            #expect(logout.json == .object(["loggedOut": .bool(true), "providerRevoked": .bool(true)]))
            #expect(await stack.directory.invalidationCount == invalidationsBefore + 1)
            #expect(try await browser.get("/dashboard").status == .unauthorized)
        }
        for secret in secrets.all { #expect(!stack.logs.allText.contains(secret)) }
    }

    @Test("registering on the hosted page signs the new user in")
    func registration() async throws {
        try await LiveStack().run { stack in
            var browser = Browser(stack.gateway)
            let callback = try await stack.logIn(
                &browser,
                form: ["action": "register", "first_name": "Katherine", "last_name": "Johnson", "email": "kj@example.com"],
                start: "/register"
            )
            #expect(callback.status == .seeOther)
            let user = try await browser.get("/dashboard").json?["user"]
            #expect(user?["email"] == .string("kj@example.com"))
            #expect(user?["name"] == .string("Katherine Johnson"))
        }
    }

    @Test("a token the provider rejects later ends the session at the next revalidation, not before")
    func rejectedLater() async throws {
        for (revalidateAfter, expected) in [(30.0, HTTPResponse.Status.ok), (0, .unauthorized)] {
            try await LiveStack().run(revalidateAfter: revalidateAfter) { (stack: LiveStack.Clients) async throws in
                var browser = Browser(stack.gateway)
                #expect(try await stack.logIn(&browser).status == .seeOther)
                // From now on the provider answers 905 (invalid token) to every call.
                await stack.directory.setFault(
                    .body(status: 403, contentType: "application/json", text: #"{"ErrorCode": 905, "Message": "Access token is invalid"}"#)
                )
                #expect(try await browser.get("/dashboard").status == expected, "revalidateAfter \(revalidateAfter)")
                let sessions = await (stack.store as? MemorySessionStore)?.count
                #expect(sessions == (expected == .ok ? 1 : 0))
            }
        }
    }

    @Test("revalidating every request: the same profile answer keeps the dashboard, a changed one shows at once")
    func profileChangesAtRevalidation() async throws {
        try await LiveStack().run(revalidateAfter: 0) { (stack: LiveStack.Clients) async throws in
            var browser = Browser(stack.gateway)
            #expect(try await stack.logIn(&browser).status == .seeOther)
            let first = try await browser.get("/dashboard")
            let again = try await browser.get("/dashboard")
            #expect(first.status == .ok && again.status == .ok)
            #expect(again.json == first.json, "an unchanged profile answer leaves the dashboard as it was")
            let userID = try #require(first.json?["user"]?["id"]?.stringValue)
            // The provider now answers a different profile for the same user.
            let changed = #"{"Uid": "\#(userID)", "FullName": "Ada King", "Email": [{"Type": "Primary", "Value": "ada.king@example.com"}]}"#
            await stack.directory.setFault(.body(status: 200, contentType: "application/json", text: changed))
            let after = try await browser.get("/dashboard")
            #expect(after.status == .ok)
            #expect(after.json?["user"]?["name"] == .string("Ada King"))
            #expect(after.json?["user"]?["email"] == .string("ada.king@example.com"))
            #expect(after.json?["profile"] == (try JSONValue(parsing: Data(changed.utf8))))
            #expect(await stack.directory.apiRequestCount == 4, "a login and three revalidations, each asking the provider")
        }
    }

    static let loginFaultCases: [(MockFault, Int)] = [
        (.status(500), 502),
        (.status(502), 502),
        (.status(503), 502),
        (.body(status: 200, contentType: "application/json", text: "{not json"), 502),
        (.body(status: 200, contentType: "text/html", text: "<html><body>Maintenance</body></html>"), 502),
        (.body(status: 200, contentType: "application/json", text: #"{"Uid": "u", "ErrorCode": 905}"#), 401),
        (.body(status: 200, contentType: "application/json", text: #"{"FirstName": "no id"}"#), 502),
        (.body(status: 429, contentType: "application/json", text: #"{"Message": "Too many requests"}"#), 503),
        (.body(status: 403, contentType: "application/json", text: #"{"ErrorCode": 901, "Message": "API key is invalid"}"#), 502),
        (.body(status: 200, contentType: "application/json", text: #"{"Uid": "u", "Padding": ""# + String(repeating: "x", count: 300_000) + #""}"#), 502),
    ]

    @Test(
        "provider faults at login fail closed with 5xx (or 401 for a rejected token), make no session, and are not retried",
        arguments: loginFaultCases
    )
    func loginFaults(fault: MockFault, status: Int) async throws {
        try await LiveStack().run { stack in
            await stack.directory.setFault(fault)
            var browser = Browser(stack.gateway)
            let callback = try await stack.logIn(&browser)
            #expect(callback.status.code == status)
            #expect(callback.json?["error"]?.stringValue != nil)
            #expect(browser.jar["gatehouse_session"] == nil)
            #expect(await (stack.store as? MemorySessionStore)?.count == 0)
            #expect(await stack.directory.apiRequestCount == 1, "an answer, even a bad one, is never asked for twice")
        }
    }

    @Test("a 20 MB answer is cut off at the body cap: 502 at once, no session")
    func hugeBody() async throws {
        // A deadline far from the bound: on a loaded machine the callback may take seconds, and
        // what is tested is that the cap ends it, not the deadline.
        try await LiveStack().run(timeoutSeconds: 20) { stack in
            await stack.directory.setFault(.hugeBody(byteCount: 20_000_000))
            var browser = Browser(stack.gateway)
            let path = try await stack.callback(&browser)
            // Only the callback is timed: the steps before it are not what the bound is about.
            let started = ContinuousClock.now
            let callback = try await browser.get(path)
            let elapsed = ContinuousClock.now - started
            #expect(callback.status == .badGateway)
            #expect(callback.json?["error"] == .string("provider_bad_response"))
            #expect(elapsed < .seconds(10), "refused at the cap, long before the 20 s deadline (took \(elapsed))")
            #expect(browser.jar["gatehouse_session"] == nil)
        }
    }

    @Test("a connection dropped before any answer is tried once more, and only once")
    func droppedConnectionRetriedOnce() async throws {
        let listener = try await HangUpListener.start()
        // A generous deadline: under load two attempts must not turn into a timeout.
        try await LiveStack().run(timeoutSeconds: 5, apiURL: "http://127.0.0.1:\(listener.port)") { stack in
            var browser = Browser(stack.gateway)
            let callback = try await stack.logIn(&browser)
            #expect(callback.status == .serviceUnavailable)
            #expect(callback.json?["error"] == .string("provider_unreachable"))
            #expect(browser.jar["gatehouse_session"] == nil)
        }
        #expect(listener.connectionCount == 2)
        try await listener.stop()
    }

    @Test("a retry whose pause would end past the deadline is not started: one connection, a prompt error")
    func noRetryPastDeadline() async throws {
        let listener = try await HangUpListener.start()
        let timeout = Duration.seconds(2)
        let client = ProviderTransport.makeHTTPClient(timeout: timeout)
        let api = LoginRadiusHTTPAPI(
            apiURL: "http://127.0.0.1:\(listener.port)",
            apiKey: "test-api-key",
            transport: ProviderTransport(client: client, configuration: .init(timeout: timeout, retry: TransportRetry(pause: .seconds(3) ... .seconds(3))))
        )
        let started = ContinuousClock.now
        let error = await #expect(throws: ProviderError.self) { try await api.answer(.profile, token: AccessToken("t")) }
        let elapsed = ContinuousClock.now - started
        #expect(error?.kind == .unreachable)
        #expect(elapsed < timeout, "failed at once instead of pausing past the deadline (took \(elapsed))")
        #expect(listener.connectionCount == 1)
        try await client.shutdown()
        try await listener.stop()
    }

    @Test("a provider that never completes the connection hits the connect deadline: 504, no session")
    func connectTimeout() async throws {
        let blackhole = try BlackholeListener()
        try #require(blackhole.dropsNewConnections(), "the kernel completed a connection to a full accept queue")
        try await LiveStack().run(timeoutSeconds: 0.5, apiURL: "http://127.0.0.1:\(blackhole.port)") { stack in
            var browser = Browser(stack.gateway)
            let path = try await stack.callback(&browser)
            let started = ContinuousClock.now
            let callback = try await browser.get(path)
            let elapsed = ContinuousClock.now - started
            #expect(callback.status == .gatewayTimeout)
            #expect(elapsed < .seconds(5), "the 0.5 s connect deadline, not the kernel's SYN retries (took \(elapsed))")
            #expect(browser.jar["gatehouse_session"] == nil)
        }
    }

    @Test("a provider that echoes the token in its error message does not get it into the logs or the answer")
    func echoedTokenRedacted() async throws {
        let stack = LiveStack()
        let secrets = SecretsSeen()
        try await stack.run { stack in
            var browser = Browser(stack.gateway)
            let callback = try await browser.startLogin()
            let token = try #require(await stack.directory.issueToken(forUserID: TestFixtures.adaID))
            secrets.add(token.value)
            let echo = #"{"ErrorCode": 1234, "Message": "bad token \#(token.value)"}"#
            await stack.directory.setFault(.body(status: 400, contentType: "application/json", text: echo))
            let response = try await browser.get("\(callback)?token=\(token.value)")
            #expect(response.status == .badGateway)
            #expect(!String(buffer: response.body).contains(token.value))
        }
        #expect(stack.logs.allText.contains("error 1234"), "the provider's error is logged")
        for secret in secrets.all { #expect(!stack.logs.allText.contains(secret)) }
    }

    @Test("a redirect from the provider is not followed (with the token) even to a valid answer")
    func redirectNotFollowed() async throws {
        try await LiveStack().run { stack in
            // If followed, this would land on the mock's own, valid, profile endpoint.
            await stack.directory.setFault(MockFault.redirect(location: stack.idpURL + "/identity/v2/auth/account?apikey=k"))
            var browser = Browser(stack.gateway)
            let callback = try await stack.logIn(&browser)
            #expect(callback.status == .badGateway)
            #expect(browser.jar["gatehouse_session"] == nil)
        }
    }

    @Test("slow headers and a dripping body both hit the deadline: 504 within it, no session")
    func deadlines() async throws {
        for fault in [MockFault.delay(.seconds(6)), .dripBody(interval: .milliseconds(100))] {
            try await LiveStack().run(timeoutSeconds: 0.5) { stack in
                var browser = Browser(stack.gateway)
                let path = try await stack.callback(&browser)
                await stack.directory.setFault(fault)
                let started = ContinuousClock.now
                let callback = try await browser.get(path)
                let elapsed = ContinuousClock.now - started
                #expect(callback.status == .gatewayTimeout, "\(fault)")
                #expect(elapsed < .seconds(5), "the 0.5 s deadline bounds the whole call, body included (took \(elapsed))")
                #expect(browser.jar["gatehouse_session"] == nil)
            }
        }
    }

    @Test("an unreachable provider is 503 at login; logout still ends the local session")
    func unreachable() async throws {
        // Port 9 on loopback (discard) is closed on these machines: connections are refused.
        try await LiveStack().run(apiURL: "http://127.0.0.1:9") { stack in
            var browser = Browser(stack.gateway)
            let callback = try await stack.logIn(&browser)
            #expect(callback.status == .serviceUnavailable)
            #expect(callback.json?["error"] == .string("provider_unreachable"))
        }
        try await LiveStack().run { stack in
            var browser = Browser(stack.gateway)
            try await stack.logIn(&browser)
            await stack.directory.setFault(.status(500))
            let logout = try await browser.post("/logout")
            #expect(logout.json == .object(["loggedOut": .bool(true), "providerRevoked": .bool(false)]))
            #expect(try await browser.get("/dashboard").status == .unauthorized)
        }
    }

    @Test("a SQLite session survives a gateway restart")
    func restartKeepsSQLiteSession() async throws {
        let directory = try TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sessions.sqlite").path
        let keyFile = directory.appendingPathComponent("sessions.key").path
        let openStore: @Sendable () async throws -> (any SessionStore, [any Service]) = {
            let keys = try SessionKeys(keyBytes: SessionKeyFile.loadOrCreate(at: keyFile))
            let store = try await SQLiteSessionStore.open(path: path, keys: keys, logger: Logger(label: "test"))
            return (store, [store])
        }
        let cookie = Cookie()
        let stack = LiveStack()
        try await stack.run(store: openStore) { stack in
            var browser = Browser(stack.gateway)
            #expect(try await stack.logIn(&browser).status == .seeOther)
            cookie.set(try #require(browser.jar["gatehouse_session"]))
        }
        try await stack.run(store: openStore) { stack in
            var browser = Browser(stack.gateway)
            browser.jar["gatehouse_session"] = cookie.value
            let dashboard = try await browser.get("/dashboard")
            #expect(dashboard.status == .ok)
            #expect(dashboard.json?["user"]?["id"] == .string(TestFixtures.adaID))
        }
    }

    /// A value carried from one server's run to the next.
    final class Cookie: Sendable {
        private let stored = Mutex<String?>(nil)
        func set(_ value: String) { stored.withLock { $0 = value } }
        var value: String? { stored.withLock { $0 } }
    }
}
