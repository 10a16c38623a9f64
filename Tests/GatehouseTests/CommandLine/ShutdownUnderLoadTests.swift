import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import Gatehouse

/// SIGTERM with clients in the middle of their requests: the real binary, raw keep-alive connections.
@Suite("Stopping under load", .timeLimit(.minutes(2)))
struct ShutdownUnderLoadTests {
    /// Whether a TCP connection to `port` on loopback is refused (a connection taken is closed again).
    static func refusesConnections(port: Int) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
            try? await channel.close()
            return false
        } catch {
            return true
        }
    }

    @Test(
        "SIGTERM with a request in flight on each of 16 keep-alive connections: every one is answered, with Connection: close, and the process exits 0 within 10 s"
    )
    func inFlightRequestsComplete() async throws {
        try await ManyInstancesTests().withMockProvider { idpURL, directory in
            let config = try ManyInstancesTests().writeConfig(
                idpURL: idpURL,
                sessions: #"{"store": "memory", "secureCookies": false, "revalidateAfterSeconds": 0}"#,
                timeoutSeconds: 15  // well past the provider's 4 s hold below, even on a loaded machine
            )
            let gateway = try GatehouseProcess(["serve", "--config", config.path, "--port", "0"])
            let port = try #require(Int(try await gateway.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#)))
            let http = GatewayHTTPClient()
            let (session, _) = try await http.logIn(at: "http://127.0.0.1:\(port)", directory: directory)
            try await http.shutdown()

            // Long enough that all 16 reach the provider before the first is answered, even on a loaded machine
            // (at 1.5 s, under CI load an early connection's answer could come back before SIGTERM, without Connection: close).
            await directory.setFault(.delay(.seconds(4)))
            let requestsBefore = await directory.apiRequestCount
            // Each connection asks twice, keep-alive: a quick /healthz, then a /dashboard that waits on the provider.
            let request = { (path: String) in
                "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nCookie: gatehouse_session=\(session)\r\n\r\n"
            }
            let pipelined = request("/healthz") + request("/dashboard")
            let connections = (0..<16).map { _ in
                Task { try await RawConnection.exchange(port: port, chunks: [pipelined], limit: .seconds(20)) }
            }
            await directory.waitForAPIRequests(requestsBefore + 16)  // every connection's second request is waiting on the provider
            let stopped = ContinuousClock.now
            let exit = Task { await gateway.stop(signal: SIGTERM) }

            // Once it says it is stopping, new connections are refused within moments, while the
            // requests in flight (4 s at the provider) are still being answered.
            _ = try await gateway.waitFor("Stopping: no new connections")
            let announced = ContinuousClock.now
            var refused = false
            while !refused, ContinuousClock.now - announced < .seconds(1) {
                refused = await Self.refusesConnections(port: port)
            }
            #expect(refused, "a new connection was still taken a second after the gateway began to stop")

            for connection in connections {
                let outcome = try await connection.value
                let answers = outcome.received.components(separatedBy: "HTTP/1.1 ").dropFirst()
                #expect(answers.count == 2, "both requests answered before the connection closed:\n\(outcome.received)")
                #expect(answers.first?.hasPrefix("200") == true)
                let last = try #require(answers.last)
                #expect(last.hasPrefix("200"), "the request in flight at SIGTERM completes:\n\(last)")
                #expect(last.lowercased().contains("connection: close"), "its answer says the connection closes:\n\(last)")
                #expect(last.contains(#""user""#), "with its whole body")
            }
            #expect(await exit.value == 0)
            #expect(ContinuousClock.now - stopped < .seconds(10))
            #expect(gateway.printed.contains("Gatehouse stopped"))
        }
    }
}
