import Foundation
import HTTPTypes
import NIOHTTP1
import Testing

@testable import Gatehouse

@Suite("Upstreams: configuration and header rules")
struct UpstreamConfigurationTests {
    let base = ConfigurationTests()

    @Test("upstreams read the same from JSON, YAML and the environment; defaults 30 s, no token, the browser's Host")
    func readsEverySource() async throws {
        let json = """
            {"provider": {"type": "mock"}, "upstreams": [
              {"pathPrefix": "/", "url": "http://127.0.0.1:3000"},
              {"pathPrefix": "/grafana/", "url": "https://grafana.internal:3443/", "timeoutSeconds": 5, "passAccessToken": true, "preserveHost": false},
              {"pathPrefix": "/socket/", "url": "unix:/run/app.sock"}
            ]}
            """
        let yaml = """
            provider: {type: mock}
            upstreams:
              - {pathPrefix: /, url: "http://127.0.0.1:3000"}
              - {pathPrefix: /grafana/, url: "https://grafana.internal:3443/", timeoutSeconds: 5, passAccessToken: true, preserveHost: false}
              - {pathPrefix: /socket/, url: "unix:/run/app.sock"}
            """
        let environment = try await ConfigurationLoader.load(
            .init(environment: [
                "GATEHOUSE_PROVIDER_TYPE": "mock",
                "GATEHOUSE_UPSTREAMS_0_PATH_PREFIX": "/", "GATEHOUSE_UPSTREAMS_0_URL": "http://127.0.0.1:3000",
                "GATEHOUSE_UPSTREAMS_1_PATH_PREFIX": "/grafana/", "GATEHOUSE_UPSTREAMS_1_URL": "https://grafana.internal:3443/",
                "GATEHOUSE_UPSTREAMS_1_TIMEOUT_SECONDS": "5", "GATEHOUSE_UPSTREAMS_1_PASS_ACCESS_TOKEN": "true",
                "GATEHOUSE_UPSTREAMS_1_PRESERVE_HOST": "false",
                "GATEHOUSE_UPSTREAMS_2_PATH_PREFIX": "/socket/", "GATEHOUSE_UPSTREAMS_2_URL": "unix:/run/app.sock",
            ])
        ).configuration.upstreams
        let expected: [GatehouseConfiguration.Upstream] = [
            .init(pathPrefix: "/", target: .http(origin: "http://127.0.0.1:3000")),
            .init(
                pathPrefix: "/grafana/",
                target: .http(origin: "https://grafana.internal:3443"),
                timeout: .seconds(5),
                passAccessToken: true,
                preserveHost: false
            ),
            .init(pathPrefix: "/socket/", target: .unixSocket(path: "/run/app.sock")),
        ]
        #expect(try await base.load(json).configuration.upstreams == expected)
        #expect(try await base.load(yaml, name: "gatehouse.yaml").configuration.upstreams == expected)
        #expect(environment == expected)
        #expect(try await base.load(#"{"provider": {"type": "mock"}}"#).configuration.upstreams.isEmpty)
    }

    @Test("a bad upstream is a problem naming its key: no url, a path, a query, another scheme, a prefix listed twice or one Gatehouse answers")
    func problems() async throws {
        func problems(_ entries: String) async -> [ConfigurationProblem] {
            await base.problems(#"{"provider": {"type": "mock"}, "upstreams": [\#(entries)]}"#)
        }
        #expect(await problems(#"{"pathPrefix": "/"}"#).map(\.key) == ["upstreams.0.url"])
        for url in ["http://127.0.0.1:3000/app", "http://h:1?x=1", "ftp://h", "http://user:pw@h", "unix:relative.sock", "127.0.0.1:3000"] {
            let found = await problems(#"{"pathPrefix": "/", "url": "\#(url)"}"#)
            #expect(found.map(\.key) == ["upstreams.0.url"], "\(url): \(found)")
        }
        #expect(await problems(#"{"pathPrefix": "app/", "url": "http://h:1"}"#).map(\.key) == ["upstreams.0.pathPrefix"])
        #expect(await problems(#"{"pathPrefix": "/a/../b/", "url": "http://h:1"}"#).map(\.key) == ["upstreams.0.pathPrefix"])
        let twice = await problems(#"{"pathPrefix": "/a/", "url": "http://h:1"}, {"pathPrefix": "/a/", "url": "http://h:2"}"#)
        #expect(twice.map(\.key) == ["upstreams"])
        for own in ["/login", "/login/callback/", "/auth", "/metrics"] {
            let found = await problems(#"{"pathPrefix": "\#(own)", "url": "http://h:1"}"#)
            #expect(found.first?.message.contains("Gatehouse answers that path itself") == true, "\(own): \(found)")
        }
        #expect(await problems(#"{"pathPrefix": "/app/", "url": "http://h:1", "timeoutSeconds": 0}"#).map(\.key) == ["upstreams.0.timeoutSeconds"])
    }

    @Test("Gatehouse's own paths: each route, its trailing slash and what is under it, nothing that merely starts alike")
    func ownPaths() {
        for path in ["/login", "/login/", "/login/callback/abc", "/register", "/logout", "/auth", "/healthz", "/readyz", "/metrics"] {
            #expect(GatewayOwnPaths.contains(path), "\(path)")
        }
        for path in ["/", "/loginx", "/dashboard", "/authority", "/app/login", "/mock-idp/auth.aspx"] {
            #expect(!GatewayOwnPaths.contains(path), "\(path)")
        }
        #expect(GatewayOwnPaths.contains("/mock-idp/auth.aspx", extra: ["/mock-idp"]))
    }

    @Test("the browser gets none of the app's hop-by-hop headers, nor those its Connection names, nor a Set-Cookie of Gatehouse's")
    func responseHeaders() {
        let headers = HTTPHeaders([
            ("Connection", "close, X-App-Hop"), ("X-App-Hop", "1"), ("Keep-Alive", "timeout=5"), ("Transfer-Encoding", "chunked"),
            ("Upgrade", "h2c"), ("Proxy-Authenticate", "Basic"), ("Trailer", "X-Sum"), ("TE", "trailers"),
            ("Set-Cookie", "app=1; Path=/"), ("Set-Cookie", "gatehouse_session=evil; Path=/"), ("Set-Cookie", "gatehouse_session_state_x=1"),
            ("Location", "https://elsewhere.example/"), ("Content-Length", "3"), ("X-Kept", "yes"),
        ])
        let fields = ProxyHeaders.browserResponse(headers) { $0 == "gatehouse_session" || $0.hasPrefix("gatehouse_session_state_") }
        #expect(fields.map(\.name.canonicalName) == ["set-cookie", "location", "content-length", "x-kept"])
        #expect(fields[values: .setCookie] == ["app=1; Path=/"])
    }
}
