import Foundation
import Testing

@testable import Gatehouse

/// The real OpenID Connect provider the real-provider suite signs in at: Canaille, started by
/// `Tests/OpenIDProvider/start-canaille.sh`, which describes it in `provider.json`.
///
/// `GATEHOUSE_TEST_OIDC_PROVIDER` names that file. Without it the suite is skipped with that
/// reason, unless `GATEHOUSE_REQUIRE_OIDC=1` (set by CI), where it runs and fails instead.
struct RealOpenIDProvider: Sendable {
    struct Client: Sendable {
        let id: String
        let secret: String?
    }

    let issuer: String
    /// Where the provider sends browsers back: the gateway's callback, on a port fixed when the
    /// clients were registered.
    let redirectURI: String
    let username: String
    let password: String
    let email: String
    let name: String
    let confidential: Client
    let publicClient: Client
    /// A client the provider does not trust, so it shows its consent page (with a deny button).
    let consenting: Client

    static let required = ProcessInfo.processInfo.environment["GATEHOUSE_REQUIRE_OIDC"] == "1"
    static let descriptionPath = ProcessInfo.processInfo.environment["GATEHOUSE_TEST_OIDC_PROVIDER"].flatMap { $0.isEmpty ? nil : $0 }
    static let skipReason: Comment =
        "run Tests/OpenIDProvider/start-canaille.sh and set GATEHOUSE_TEST_OIDC_PROVIDER to the provider.json it writes to run the real-provider suite"
    static var enabled: Bool { descriptionPath != nil || required }

    /// The provider `provider.json` describes.
    static func load() throws -> RealOpenIDProvider {
        let path = try #require(descriptionPath, "GATEHOUSE_REQUIRE_OIDC=1 but GATEHOUSE_TEST_OIDC_PROVIDER is not set")
        let document = try JSONValue(parsing: try Data(contentsOf: URL(fileURLWithPath: path)))
        func text(_ value: JSONValue?) throws -> String { try #require(value?.stringValue, "provider.json lacks a member") }
        func client(_ name: String) throws -> Client {
            Client(id: try text(document["clients"]?[name]?["client_id"]), secret: document["clients"]?[name]?["client_secret"]?.stringValue)
        }
        return RealOpenIDProvider(
            issuer: try text(document["issuer"]),
            redirectURI: try text(document["redirect_uri"]),
            username: try text(document["user"]?["username"]),
            password: try text(document["user"]?["password"]),
            email: try text(document["user"]?["email"]),
            name: try text(document["user"]?["name"]),
            confidential: try client("confidential"),
            publicClient: try client("public"),
            consenting: try client("consent")
        )
    }

    /// The gateway's public URL the provider's clients were registered for.
    var gatewayURL: String {
        redirectURI.replacingOccurrences(of: "/login/callback", with: "")
    }

    var gatewayPort: Int {
        URLComponents(string: gatewayURL)?.port ?? 80
    }
}
