import AsyncHTTPClient
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The pluggable parts of a gateway, chosen from the configuration in one place.
public struct GatewayComponents: Sendable {
    public var provider: any IdentityProvider
    public var store: any SessionStore
    /// Where logins in flight wait for their callback: memory for one gateway, the database for several.
    public var pendingLogins: any PendingLoginStore
    /// The mock provider's directory, when the provider is the in-process mock; its hosted page is
    /// then served by the gateway under ``MockProviderMount/pathPrefix``.
    public var mockDirectory: MockDirectory?
    /// Long-lived parts that must shut down in order (HTTP client, database connection).
    public var services: [any Service]
    /// Work to finish once the services run and before the server accepts requests (schema creation).
    public var preparations: [@Sendable () async throws -> Void]

    public init(
        provider: any IdentityProvider,
        store: any SessionStore,
        pendingLogins: any PendingLoginStore = MemoryPendingLoginStore(),
        mockDirectory: MockDirectory? = nil,
        services: [any Service] = [],
        preparations: [@Sendable () async throws -> Void] = []
    ) {
        self.provider = provider
        self.store = store
        self.pendingLogins = pendingLogins
        self.mockDirectory = mockDirectory
        self.services = services
        self.preparations = preparations
    }

    /// Builds the provider and the session store the configuration names.
    public static func make(for configuration: GatehouseConfiguration, mockUsers: [[String: JSONValue]] = [], logger: Logger) async throws -> GatewayComponents
    {
        var services: [any Service] = []
        var preparations: [@Sendable () async throws -> Void] = []
        // The store first: if it cannot open, no HTTP client has been created that would need shutting down.
        let store: any SessionStore
        var pendingLogins: any PendingLoginStore = MemoryPendingLoginStore()
        switch configuration.sessions.store {
        case .memory:
            store = MemorySessionStore()
        case .sqlite:
            let sealer = try SessionSealer(keyBytes: configuration.sessions.encryptionKey ?? SessionKeyFile.loadOrCreate(at: configuration.sessions.keyFile))
            let sqlite = try await SQLiteSessionStore.open(path: configuration.sessions.sqlitePath, sealer: sealer, logger: logger)
            services.append(sqlite)
            store = sqlite
        case .postgres:
            guard let url = configuration.sessions.postgresURL, let key = configuration.sessions.encryptionKey else {
                throw ConfigurationError(problems: [
                    .init(key: "sessions", message: "the postgres store needs postgresURL and encryptionKey", fix: "set both")
                ])
            }
            let client = try PostgresSessionStore.makeClient(url: url, logger: logger)
            let postgres = PostgresSessionStore(client: client, sealer: try SessionSealer(keyBytes: key), logger: logger)
            let logins = PostgresPendingLoginStore(client: client, logger: logger)
            services.append(client)
            let server = (try? PostgresSessionStore.makeClientConfiguration(url: url)).map { "\($0.host ?? "?"):\($0.port ?? 5432)" } ?? "?"
            preparations.append {
                do {
                    try await postgres.migrate()
                    try await logins.migrate()
                } catch {
                    throw StartupError(
                        description: "the PostgreSQL session store at \(server) could not be prepared (\(type(of: error))): "
                            + "check that the server is up, that sessions.postgresURL is right, and that its user may create tables"
                    )
                }
            }
            store = postgres
            pendingLogins = logins
        }

        let settings = configuration.provider
        switch settings.kind {
        case .loginRadius:
            let timeout = Duration.milliseconds(Int64(settings.timeoutSeconds * 1000))
            let client = LoginRadiusProvider.makeHTTPClient(timeout: timeout)
            services.append(HTTPClientService(client: client))
            let provider = LoginRadiusProvider(
                configuration: .init(hostedPageURL: settings.hostedPageURL, apiURL: settings.apiURL, apiKey: settings.apiKey, timeout: timeout),
                client: client
            )
            return GatewayComponents(provider: provider, store: store, pendingLogins: pendingLogins, services: services, preparations: preparations)
        case .mock:
            logger.warning("provider.type is mock: anyone can sign in as any fixture user. Never use this in production.")
            let directory = MockDirectory(users: mockUsers)
            let provider = MockIdentityProvider(directory: directory, hostedPageURL: settings.hostedPageURL, apiKey: settings.apiKey)
            return GatewayComponents(
                provider: provider,
                store: store,
                pendingLogins: pendingLogins,
                mockDirectory: directory,
                services: services,
                preparations: preparations
            )
        }
    }
}

/// Why the gateway could not start; says what to check, never a secret.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String
}
