extension GatehouseConfiguration {
    /// The identity provider: its type, and the settings of that type.
    public struct Provider: Sendable, Equatable {
        /// Which implementation of ``IdentityProvider`` to use.
        public enum Kind: String, Sendable, CaseIterable {
            /// LoginRadius (or a compatible service) over HTTP.
            case loginRadius = "loginradius"
            /// Any standard OpenID Connect provider.
            case openIDConnect = "oidc"
            /// The in-process mock, its hosted page served by the gateway under ``MockProviderMount/pathPrefix``.
            case mock
        }

        public var kind = Kind.loginRadius
        public var appName: String?
        public var apiKey = ""
        public var apiSecret: String?
        public var hostedPageURL = ""
        public var apiURL = ""
        /// The deadline for one provider call: connection, headers and body.
        public var timeout = Duration.seconds(5)
        /// The OpenID Connect client, for ``Kind/openIDConnect``.
        public var openIDConnect: OpenIDConnect?

        /// An OpenID Connect client registration (contract §7).
        public struct OpenIDConnect: Sendable, Equatable {
            public var issuer: String
            /// `nil`: `{issuer}/.well-known/openid-configuration`.
            public var discoveryURL: String?
            public var clientID: String
            /// `nil` for a public client.
            public var clientSecret: String?
            public var scopes = ["openid", "email", "profile"]
        }
    }
}

extension GatehouseConfiguration.Provider {
    /// ## Configuration keys
    /// - `type` (default `loginradius`): `loginradius`, `oidc` or `mock`; `timeoutSeconds` (default `5`).
    /// - `allowMockOffLoopback` (default `false`): the mock lets anyone sign in as anyone, so it
    ///   runs only on a loopback listen address unless this says otherwise.
    /// - LoginRadius: `appName`, `apiKey` (secret), `apiSecret` (secret), `hostedPageURL` (default
    ///   `https://{appName}.hub.loginradius.com/auth.aspx`), `apiURL` (default `https://api.loginradius.com`).
    /// - OpenID Connect: see ``OpenIDConnect/init(reader:)``.
    ///
    /// The keys of the other types are declared, not read: a file may hold them (an `env:`
    /// reference in them need not resolve), and none is reported as unknown.
    public init(reader: SettingsReader, publicURL: String, listenHost: String) {
        let chosen = reader.choice("type", default: Kind.loginRadius)
        kind = chosen ?? .loginRadius
        timeout = reader.seconds("timeoutSeconds", default: timeout, in: 0.01...120, hint: "a number of seconds, e.g. 5")
        let loginRadiusKeys = ["appName", "apiKey", "apiSecret", "hostedPageURL", "apiURL"]
        let openIDKeys = ["issuer", "discoveryURL", "clientID", "clientSecret", "scopes"]
        if chosen != .mock { reader.declare(["allowMockOffLoopback"]) }
        switch chosen {
        case nil:
            reader.declare(loginRadiusKeys + openIDKeys)
        case .openIDConnect:
            reader.declare(loginRadiusKeys)
            openIDConnect = OpenIDConnect(reader: reader)
        case .mock:
            let offLoopback = reader.bool("allowMockOffLoopback", default: false, hint: "true only for a test network nobody else reaches") ?? false
            if !LoopbackHost.contains(listenHost), !offLoopback {
                reader.problem(
                    "type",
                    "is mock, which lets anyone sign in as anyone, but listen.host is \(listenHost), which other machines can reach",
                    fix:
                        "listen on 127.0.0.1 for tests and demos, choose a real provider, or set provider.allowMockOffLoopback to true on a closed test network"
                )
            }
            reader.declare(["appName", "apiSecret"] + openIDKeys)
            apiKey = reader.string("apiKey", default: "mock-api-key", secret: true, hint: "nothing: leave it out for the mock") ?? ""
            let mockURL = publicURL + MockProviderMount.pathPrefix
            hostedPageURL = reader.url("hostedPageURL", default: mockURL + "/auth.aspx", allowPath: true, hint: "nothing: leave it out for the mock") ?? ""
            apiURL = reader.url("apiURL", default: mockURL, allowPath: true, hint: "nothing: leave it out for the mock") ?? ""
        case .loginRadius:
            reader.declare(openIDKeys)
            readLoginRadius(reader)
        }
    }

    /// LoginRadius's keys: `appName` or `hostedPageURL`, and `apiKey`, are required.
    private mutating func readLoginRadius(_ reader: SettingsReader) {
        appName = reader.string("appName", hint: "your LoginRadius app name, the NAME of https://NAME.hub.loginradius.com")
        if let appName, appName.isEmpty || !appName.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) {
            reader.problem("appName", "must be a LoginRadius app name (letters, digits and -)", hint: "the NAME of https://NAME.hub.loginradius.com")
        }
        apiKey = reader.string("apiKey", secret: true, required: true, hint: "your LoginRadius API key, e.g. \"env:LOGINRADIUS_API_KEY\"") ?? ""
        apiSecret = reader.string("apiSecret", secret: true, hint: "\"env:LOGINRADIUS_API_SECRET\"")
        let page = appName.map { "https://\($0).hub.loginradius.com/auth.aspx" }
        hostedPageURL =
            reader.url("hostedPageURL", default: page, allowPath: true, hint: "the hosted login page, e.g. \"https://my-app.hub.loginradius.com/auth.aspx\"")
            ?? ""
        if hostedPageURL.isEmpty, !reader.isSet("hostedPageURL") {
            reader.missing(
                "appName",
                "is required when there is no provider.hostedPageURL",
                hint: "your LoginRadius app name, or provider.hostedPageURL to your hosted page"
            )
        }
        apiURL = reader.url("apiURL", default: "https://api.loginradius.com", allowPath: true, hint: "\"https://api.loginradius.com\", or leave it out") ?? ""
    }
}

extension GatehouseConfiguration.Provider.OpenIDConnect {
    /// ## Configuration keys (in `provider`, with `type` `oidc`)
    /// - `issuer` (required, compared exactly), `discoveryURL` (default `{issuer}/.well-known/openid-configuration`),
    ///   `clientID` (required), `clientSecret` (secret; none for a public client),
    ///   `scopes` (default `["openid", "email", "profile"]`; `openid` is always added).
    init(reader: SettingsReader) {
        issuer =
            reader.url(
                "issuer",
                allowPath: true,
                keepTrailingSlash: true,
                required: true,
                hint: "your provider's issuer, e.g. \"https://idp.example.com/realms/main\""
            )
            ?? ""
        discoveryURL = reader.url("discoveryURL", allowPath: true, keepTrailingSlash: true, hint: "the discovery document's URL, or leave it out")
        clientID = reader.string("clientID", required: true, hint: "the client id registered at your provider") ?? ""
        clientSecret = reader.string("clientSecret", secret: true, hint: "\"env:GATEHOUSE_CLIENT_SECRET\", or leave it out for a public client")
        let listed = reader.strings("scopes", default: scopes, hint: "a list such as [\"openid\", \"email\", \"profile\"]") ?? scopes
        scopes = listed.contains("openid") ? listed : ["openid"] + listed
    }
}
