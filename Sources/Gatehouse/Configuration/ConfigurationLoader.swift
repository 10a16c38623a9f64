import Foundation
import Logging

/// Builds a ``GatehouseConfiguration`` from the JSON configuration file.
///
/// Every problem is reported with its key and a fix, all at once; a configuration with any
/// problem is refused whole, so the gateway never starts half-configured.
public enum ConfigurationLoader {
    static let topLevelKeys: Set<String> = ["publicURL", "listen", "provider", "sessions", "redirects", "logLevel", "metrics"]
    static let listenKeys: Set<String> = ["host", "port", "idleTimeoutSeconds"]
    static let providerKeys: Set<String> = [
        "type", "appName", "apiKey", "apiSecret", "hostedPageURL", "apiURL", "timeoutSeconds", "issuer", "discoveryURL", "clientID",
        "clientSecret", "scopes",
    ]
    static let sessionKeys: Set<String> = [
        "store", "sqlitePath", "postgresURL", "cookieName", "secureCookies", "idleTimeoutSeconds",
        "absoluteTimeoutSeconds", "revalidateAfterSeconds", "encryptionKey", "keyFile",
    ]
    static let redirectKeys: Set<String> = ["afterLogin", "afterLogout"]
    static let metricsKeys: Set<String> = ["enabled", "listen"]

    /// Reads and validates the file at `path`.
    public static func load(fromFile path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError)
        -> LoadedConfiguration
    {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError(problems: [
                .init(key: "", message: "the configuration file \(path) does not exist", fix: "pass --config with the path of a file like config.example.json")
            ])
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(problems: [.init(key: "", message: "the configuration file \(path) cannot be read", fix: "check its permissions")])
        }
        return try load(json: data, environment: environment)
    }

    /// Validates a configuration given as JSON text.
    public static func load(json: Data, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> LoadedConfiguration {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: json)
        } catch {
            throw ConfigurationError(problems: [
                .init(
                    key: "",
                    message: "the configuration is not valid JSON (\(describe(error)))",
                    fix: "correct the JSON syntax; config.example.json shows the shape"
                )
            ])
        }
        guard let members = document.objectValue else {
            throw ConfigurationError(problems: [
                .init(key: "", message: "the configuration must be a JSON object, not \(document.typeName)", fix: "start from config.example.json")
            ])
        }
        var reader = ConfigurationReader(environment: environment)
        let root = ConfigurationReader.Section(path: "", members: members)
        reader.warnUnknown(in: root, known: topLevelKeys)

        let listen = readListen(&reader, reader.section("listen", in: root, known: listenKeys))
        let publicURL =
            reader.url("publicURL", in: root, allowPath: false, fix: "set publicURL to the address browsers use, e.g. \"https://login.example.com\"")
            ?? "http://\(listen.host == "0.0.0.0" || listen.host == "::" ? "localhost" : listen.host):\(listen.port)"
        let provider = readProvider(&reader, root, publicURL: publicURL)
        let sessions = readSessions(&reader, root, publicURL: publicURL)
        let redirects = readRedirects(&reader, root)
        let logLevel = readLogLevel(&reader, root)
        let metrics = readMetrics(&reader, root, gatewayListen: listen)

        guard reader.problems.isEmpty, let provider else {
            throw ConfigurationError(problems: reader.problems)
        }
        let configuration = GatehouseConfiguration(
            publicURL: publicURL,
            listen: listen,
            provider: provider,
            sessions: sessions,
            redirects: redirects,
            logLevel: logLevel,
            metrics: metrics
        )
        return LoadedConfiguration(configuration: configuration, warnings: reader.warnings)
    }

    // MARK: - Sections

    private static func readListen(
        _ reader: inout ConfigurationReader,
        _ section: ConfigurationReader.Section,
        defaults: GatehouseConfiguration.Listen = .init()
    ) -> GatehouseConfiguration.Listen {
        let name = section.path
        var listen = defaults
        if let host = reader.string("host", in: section, fix: "set \(name).host to an address such as \"127.0.0.1\" or \"0.0.0.0\"") {
            if host.isEmpty || host.contains(where: \.isWhitespace) {
                reader.problem(section.key("host"), "is not a host address", fix: "set \(name).host to an address such as \"127.0.0.1\"")
            } else {
                listen.host = host
            }
        }
        if let port = reader.integer("port", in: section, range: 0...65535, fix: "set \(name).port to a port number such as 8080") {
            listen.port = port
        }
        if let idle = reader.number("idleTimeoutSeconds", in: section, range: 0.1...3600, fix: "set \(name).idleTimeoutSeconds to a number of seconds, e.g. 30")
        {
            listen.idleTimeoutSeconds = idle
        }
        return listen
    }

    private static func readProvider(_ reader: inout ConfigurationReader, _ root: ConfigurationReader.Section, publicURL: String) -> GatehouseConfiguration
        .Provider?
    {
        let section = reader.section("provider", in: root, known: providerKeys)
        let kinds = GatehouseConfiguration.Provider.Kind.allCases.map(\.rawValue).joined(separator: " or ")
        var kind = GatehouseConfiguration.Provider.Kind.loginRadius
        if let name = reader.string("type", in: section, fix: "set provider.type to \(kinds)") {
            guard let parsed = GatehouseConfiguration.Provider.Kind(rawValue: name.lowercased()) else {
                reader.problem(section.key("type"), "\"\(name)\" is not a known provider", fix: "set provider.type to \(kinds)")
                return nil
            }
            kind = parsed
        }
        let appName = reader.string("appName", in: section, fix: "set provider.appName to your LoginRadius app name")
        let apiSecret = reader.string("apiSecret", in: section, fix: "set provider.apiSecret to \"env:LOGINRADIUS_API_SECRET\"")
        let timeout = reader.number("timeoutSeconds", in: section, range: 0.01...120, fix: "set provider.timeoutSeconds to a number of seconds, e.g. 5") ?? 5
        let hostedPageURL = reader.url(
            "hostedPageURL",
            in: section,
            allowPath: true,
            fix: "set provider.hostedPageURL to the hosted login page, e.g. \"https://my-app.hub.loginradius.com/auth.aspx\""
        )
        let apiURL = reader.url("apiURL", in: section, allowPath: true, fix: "set provider.apiURL to \"https://api.loginradius.com\" or leave it out")
        let apiKey = reader.string("apiKey", in: section, fix: "set provider.apiKey to \"env:LOGINRADIUS_API_KEY\"")

        switch kind {
        case .openIDConnect:
            return readOpenIDConnect(&reader, section, timeout: timeout)
        case .mock:
            return .init(
                kind: .mock,
                appName: appName,
                apiKey: apiKey ?? "mock-api-key",
                apiSecret: apiSecret,
                hostedPageURL: hostedPageURL ?? publicURL + MockProviderMount.pathPrefix + "/auth.aspx",
                apiURL: apiURL ?? publicURL + MockProviderMount.pathPrefix,
                timeoutSeconds: timeout
            )
        case .loginRadius:
            if section.members["apiKey"] == nil {
                reader.problem(section.key("apiKey"), "is missing", fix: "set provider.apiKey to your LoginRadius API key, e.g. \"env:LOGINRADIUS_API_KEY\"")
            }
            if let appName, appName.isEmpty || !appName.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) {
                reader.problem(
                    section.key("appName"),
                    "must be a LoginRadius app name (letters, digits and -)",
                    fix: "set provider.appName to the name in your hub URL, https://NAME.hub.loginradius.com"
                )
            }
            let defaultHostedPage = appName.map { "https://\($0).hub.loginradius.com/auth.aspx" }
            if hostedPageURL == nil, appName == nil, section.members["hostedPageURL"] == nil {
                reader.problem(
                    section.key("appName"),
                    "is missing, and there is no provider.hostedPageURL",
                    fix: "set provider.appName to your LoginRadius app name, or provider.hostedPageURL to your hosted page"
                )
            }
            guard let apiKey, let hosted = hostedPageURL ?? defaultHostedPage else { return nil }
            return .init(
                kind: .loginRadius,
                appName: appName,
                apiKey: apiKey,
                apiSecret: apiSecret,
                hostedPageURL: hosted,
                apiURL: apiURL ?? "https://api.loginradius.com",
                timeoutSeconds: timeout
            )
        }
    }

    private static func readOpenIDConnect(_ reader: inout ConfigurationReader, _ section: ConfigurationReader.Section, timeout: Double)
        -> GatehouseConfiguration.Provider?
    {
        let issuer = reader.url(
            "issuer",
            in: section,
            allowPath: true,
            keepTrailingSlash: true,
            fix: "set provider.issuer to your provider's issuer, e.g. \"https://idp.example.com/realms/main\""
        )
        if section.members["issuer"] == nil {
            reader.problem(section.key("issuer"), "is required when provider.type is oidc", fix: "set provider.issuer to your provider's issuer URL")
        }
        let discoveryURL = reader.url(
            "discoveryURL",
            in: section,
            allowPath: true,
            keepTrailingSlash: true,
            fix: "set provider.discoveryURL to the discovery document's URL, or leave it out"
        )
        let clientID = reader.string("clientID", in: section, fix: "set provider.clientID to the client id registered at your provider")
        if section.members["clientID"] == nil || clientID?.isEmpty == true {
            reader.problem(
                section.key("clientID"),
                "is required when provider.type is oidc",
                fix: "set provider.clientID to the client id registered at your provider"
            )
        }
        let clientSecret = reader.string(
            "clientSecret",
            in: section,
            fix: "set provider.clientSecret to \"env:GATEHOUSE_CLIENT_SECRET\", or leave it out for a public client"
        )
        var scopes = ["openid", "email", "profile"]
        if let listed = reader.stringArray("scopes", in: section, fix: "set provider.scopes to a list such as [\"openid\", \"email\", \"profile\"]") {
            scopes = listed.contains("openid") ? listed : ["openid"] + listed
        }
        guard let issuer, let clientID, !clientID.isEmpty else { return nil }
        return .init(
            kind: .openIDConnect,
            timeoutSeconds: timeout,
            openIDConnect: .init(issuer: issuer, discoveryURL: discoveryURL, clientID: clientID, clientSecret: clientSecret, scopes: scopes)
        )
    }

    private static func readSessions(_ reader: inout ConfigurationReader, _ root: ConfigurationReader.Section, publicURL: String)
        -> GatehouseConfiguration.Sessions
    {
        let section = reader.section("sessions", in: root, known: sessionKeys)
        var sessions = GatehouseConfiguration.Sessions(secureCookies: publicURL.lowercased().hasPrefix("https://"))
        let stores = GatehouseConfiguration.Sessions.Store.allCases.map(\.rawValue).joined(separator: ", ")
        if let name = reader.string("store", in: section, fix: "set sessions.store to one of \(stores)") {
            if let store = GatehouseConfiguration.Sessions.Store(rawValue: name.lowercased()) {
                sessions.store = store
            } else {
                reader.problem(section.key("store"), "\"\(name)\" is not a known session store", fix: "set sessions.store to one of \(stores)")
            }
        }
        if let path = reader.string("sqlitePath", in: section, fix: "set sessions.sqlitePath to a file path") {
            if path.isEmpty {
                reader.problem(section.key("sqlitePath"), "is empty", fix: "set sessions.sqlitePath to a file path such as \"gatehouse-sessions.sqlite\"")
            } else {
                sessions.sqlitePath = path
            }
        }
        sessions.keyFile = sessions.sqlitePath + ".key"
        if sessions.store == .postgres {
            sessions.postgresURL = reader.string("postgresURL", in: section, fix: "set sessions.postgresURL to \"env:GATEHOUSE_POSTGRES_URL\"")
            if section.members["postgresURL"] == nil {
                reader.problem(
                    section.key("postgresURL"),
                    "is required when sessions.store is postgres",
                    fix: "set sessions.postgresURL to a postgres:// URL, e.g. \"env:GATEHOUSE_POSTGRES_URL\""
                )
            } else if let url = sessions.postgresURL, (try? PostgresSessionStore.makeClientConfiguration(url: url)) == nil {
                reader.problem(
                    section.key("postgresURL"),
                    "is not a postgres://user:password@host:port/database URL",
                    fix: "write it as postgres://USER:PASSWORD@HOST:5432/DATABASE (add ?sslmode=disable for a server without TLS)"
                )
            }
            if section.members["encryptionKey"] == nil {
                reader.problem(
                    section.key("encryptionKey"),
                    "is required when sessions.store is postgres (every instance must seal sessions with the same key)",
                    fix: "set sessions.encryptionKey to \"env:GATEHOUSE_SESSION_KEY\" and give every instance the same `openssl rand -base64 32`"
                )
            }
        }
        if let name = reader.string("cookieName", in: section, fix: "set sessions.cookieName to a name such as \"gatehouse_session\"") {
            if Self.isCookieName(name) {
                sessions.cookieName = name
            } else {
                reader.problem(section.key("cookieName"), "is not a valid cookie name", fix: "use letters, digits, - and _ only, e.g. \"gatehouse_session\"")
            }
        }
        if let secure = reader.bool("secureCookies", in: section, fix: "set sessions.secureCookies to true (HTTPS) or false (plain HTTP)") {
            sessions.secureCookies = secure
            if !secure, publicURL.lowercased().hasPrefix("https://") {
                reader.warning(
                    section.key("secureCookies"),
                    "is false although publicURL is https",
                    fix: "set it to true so cookies never travel over plain HTTP"
                )
            }
        }
        let day = 86_400.0
        if let idle = reader.number(
            "idleTimeoutSeconds",
            in: section,
            range: 1...(365 * day),
            fix: "set sessions.idleTimeoutSeconds to a number of seconds, e.g. 1800"
        ) {
            sessions.lifetime.idleTimeout = idle
        }
        if let absolute = reader.number(
            "absoluteTimeoutSeconds",
            in: section,
            range: 1...(365 * day),
            fix: "set sessions.absoluteTimeoutSeconds to a number of seconds, e.g. 28800"
        ) {
            sessions.lifetime.absoluteTimeout = absolute
        }
        if let revalidate = reader.number(
            "revalidateAfterSeconds",
            in: section,
            range: 0...day,
            fix: "set sessions.revalidateAfterSeconds to a number of seconds (0 asks the provider on every request)"
        ) {
            sessions.lifetime.revalidateAfter = revalidate
        }
        if let key = reader.string(
            "encryptionKey",
            in: section,
            fix: "set sessions.encryptionKey to \"env:GATEHOUSE_SESSION_KEY\" holding 32 random bytes in base64 (openssl rand -base64 32)"
        ) {
            if let bytes = Data(base64Encoded: key), bytes.count == 32 {
                sessions.encryptionKey = bytes
            } else {
                reader.problem(section.key("encryptionKey"), "must be 32 bytes in base64", fix: "generate one with `openssl rand -base64 32`")
            }
        }
        if let keyFile = reader.string("keyFile", in: section, fix: "set sessions.keyFile to a file path") {
            sessions.keyFile = keyFile
        }
        return sessions
    }

    private static func readRedirects(_ reader: inout ConfigurationReader, _ root: ConfigurationReader.Section) -> GatehouseConfiguration.Redirects {
        let section = reader.section("redirects", in: root, known: redirectKeys)
        var redirects = GatehouseConfiguration.Redirects()
        for (name, keyPath) in [("afterLogin", \GatehouseConfiguration.Redirects.afterLogin), ("afterLogout", \.afterLogout)] {
            guard let text = reader.string(name, in: section, fix: "set redirects.\(name) to a path on this gateway, e.g. \"/\"") else { continue }
            if let target = RedirectTarget(validating: text) {
                redirects[keyPath: keyPath] = target
            } else {
                reader.problem(
                    section.key(name),
                    "must be a path on this gateway starting with a single /",
                    fix: "use a relative path such as \"/dashboard\"; other hosts are never redirected to"
                )
            }
        }
        return redirects
    }

    private static func readMetrics(
        _ reader: inout ConfigurationReader,
        _ root: ConfigurationReader.Section,
        gatewayListen: GatehouseConfiguration.Listen
    ) -> GatehouseConfiguration.Metrics {
        let section = reader.section("metrics", in: root, known: metricsKeys)
        var metrics = GatehouseConfiguration.Metrics()
        if let enabled = reader.bool("enabled", in: section, fix: "set metrics.enabled to true or false") {
            metrics.enabled = enabled
        }
        guard section.members["listen"] != nil else { return metrics }
        let listen = readListen(&reader, reader.section("listen", in: section, known: listenKeys), defaults: .init(port: 9464))
        if listen.host == gatewayListen.host, listen.port == gatewayListen.port, listen.port != 0 {
            reader.problem(
                section.key("listen"),
                "is the gateway's own address",
                fix: "give metrics.listen another port (e.g. 9464), or leave it out to serve /metrics beside the gateway"
            )
        }
        metrics.listen = listen
        return metrics
    }

    private static func readLogLevel(_ reader: inout ConfigurationReader, _ root: ConfigurationReader.Section) -> Logger.Level {
        let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
        guard let name = reader.string("logLevel", in: root, fix: "set logLevel to one of \(levels)") else { return .info }
        guard let level = Logger.Level(rawValue: name.lowercased()) else {
            reader.problem(root.key("logLevel"), "\"\(name)\" is not a log level", fix: "set logLevel to one of \(levels)")
            return .info
        }
        return level
    }

    static func isCookieName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "-" || $0 == "_" }
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription
        }
        return "unreadable"
    }
}
