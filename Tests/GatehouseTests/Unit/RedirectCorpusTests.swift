import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Gatehouse

/// The redirect corpus in `Tests/GatehouseTests/Corpus`: raw query values, hostile and legitimate.
enum RedirectCorpus {
    static func load(_ name: String) -> [String] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Corpus").appendingPathComponent(name)
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init).filter { !$0.hasPrefix("#") }
    }

    static let hostile = load("hostile-redirects.txt")
    static let legitimate = load("legitimate-redirects.txt")
}

@Suite("Redirect corpus")
struct RedirectCorpusTests {
    @Test("the corpus is as large as promised: 150 hostile, 30 legitimate")
    func size() {
        #expect(RedirectCorpus.hostile.count >= 150)
        #expect(RedirectCorpus.legitimate.count >= 30)
    }

    @Test("every hostile value is refused", arguments: RedirectCorpus.hostile)
    func hostile(_ raw: String) {
        #expect(RedirectTarget.fromQuery("next=" + raw) == nil)
    }

    @Test("every legitimate value survives as its one-decoded self", arguments: RedirectCorpus.legitimate)
    func legitimate(_ raw: String) throws {
        let decoded = try #require(raw.removingPercentEncoding)
        #expect(RedirectTarget.fromQuery("next=" + raw)?.path == decoded)
    }

    @Test("through the gateway: a login with a hostile next lands on afterLogin, a legitimate one on itself")
    func throughTheGateway() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            for (raw, expected) in RedirectCorpus.hostile.map({ ($0, "/dashboard") }) + RedirectCorpus.legitimate.map({ ($0, $0.removingPercentEncoding!) }) {
                var browser = Browser(client)
                let callback = try await browser.logIn(via: "/login?next=" + raw, directory: harness.directory)
                #expect(callback.status == .seeOther, "\(raw)")
                #expect(callback.headers[.location] == expected, "next=\(raw)")
            }
        }
    }
}
