import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Gatehouse

/// The mock lets anyone sign in as anyone: it must stay where only tests and demos reach it.
@Suite("The mock provider kept to tests and demos")
struct MockProviderExposureTests {
    @Test("the in-gateway mock's page sends tokens only back to publicURL's origin")
    func returnURLsOnThisGateway() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let own = PercentEncoding.encodeComponent("http://gatehouse.test/login/callback/abc")
            #expect(try await client.execute(uri: "/mock-idp/auth.aspx?action=login&return_url=\(own)", method: .get).status == .ok)
            for elsewhere in [
                "https://evil.example/steal", "http://gatehouse.test.evil.example/cb", "http://gatehouse.test:8080/cb", "https://gatehouse.test/cb",
                "http://evil.example/?u=http://gatehouse.test/",
            ] {
                let page = try await client.execute(uri: "/mock-idp/auth.aspx?return_url=\(PercentEncoding.encodeComponent(elsewhere))", method: .get)
                #expect(page.status == .badRequest, "\(elsewhere)")
                #expect(String(buffer: page.body).contains("only back to this gateway"))

                let form = "action=login&uid=\(TestFixtures.adaID)&return_url=\(PercentEncoding.encodeComponent(elsewhere))"
                let submitted = try await client.execute(
                    uri: "/mock-idp/auth.aspx",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: form)
                )
                #expect(submitted.status == .badRequest, "no token goes to \(elsewhere)")
                #expect(submitted.headers[.location] == nil)
            }
            let form = "action=login&uid=\(TestFixtures.adaID)&return_url=\(own)"
            let submitted = try await client.execute(
                uri: "/mock-idp/auth.aspx",
                method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: form)
            )
            #expect(submitted.status == .found)
            #expect(submitted.headers[.location]?.hasPrefix("http://gatehouse.test/login/callback/abc?token=") == true)
        }
    }

    @Test("registrations and live tokens are bounded; expired tokens make room again")
    func boundedDirectory() async throws {
        let clock = ManualClock()
        let directory = MockDirectory(
            users: TestFixtures.users,
            configuration: .init(tokenLifetime: .seconds(60), maximumRegisteredUsers: 2, maximumLiveTokens: 3),
            now: clock.function
        )
        #expect(await directory.register(firstName: "One", lastName: "", email: "one@example.com") != nil)
        #expect(await directory.register(firstName: "Two", lastName: "", email: "two@example.com") != nil)
        #expect(await directory.register(firstName: "Three", lastName: "", email: "three@example.com") == nil)
        #expect(await directory.users.count == TestFixtures.users.count + 2)

        for _ in 0..<3 { #expect(await directory.issueToken(forUserID: TestFixtures.adaID) != nil) }
        #expect(await directory.issueToken(forUserID: TestFixtures.adaID) == nil, "a fourth live token is refused")
        clock.advance(by: 61)
        #expect(await directory.issueToken(forUserID: TestFixtures.adaID) != nil, "expired tokens are dropped to make room")
    }

    @Test("provider.type mock is refused on a listen address other machines reach, unless the configuration opts in")
    func refusedOffLoopback() async throws {
        let configuration = ConfigurationTests()
        for host in ["0.0.0.0", "::", "10.1.2.3"] {
            let problems = await configuration.problems(#"{"listen": {"host": "\#(host)"}, "provider": {"type": "mock"}, "sessions": {"store": "memory"}}"#)
            #expect(
                problems.contains { $0.key == "provider.type" && $0.message.contains("anyone sign in as anyone") && $0.fix.contains("allowMockOffLoopback") },
                "\(host): \(problems)"
            )
        }
        for text in [
            #"{"listen": {"host": "0.0.0.0"}, "provider": {"type": "mock", "allowMockOffLoopback": true}, "sessions": {"store": "memory"}}"#,
            #"{"listen": {"host": "127.0.0.1"}, "provider": {"type": "mock"}, "sessions": {"store": "memory"}}"#,
            #"{"listen": {"host": "::1"}, "provider": {"type": "mock"}, "sessions": {"store": "memory"}}"#,
        ] {
            #expect(await configuration.problems(text).isEmpty, "\(text)")
        }
    }

    @Test("gatehouse serve and check-config refuse the mock on 0.0.0.0, naming the key and the way out")
    func commandsRefuse() async throws {
        let environment = ["GATEHOUSE_PROVIDER_TYPE": "mock", "GATEHOUSE_LISTEN_HOST": "0.0.0.0", "GATEHOUSE_SESSIONS_STORE": "memory"]
        for command in [["check-config"], ["serve", "--port", "0"]] {
            let run = try await GatehouseProcess.run(command, environment: environment)
            #expect(run.status != 0, "\(command): \(run.output)")
            #expect(run.output.contains("provider.type"), "\(run.output)")
            #expect(run.output.contains("allowMockOffLoopback"))
            #expect(!run.output.contains("listening on"))
        }
    }
}
