import Logging

/// The settings a running gateway takes from a reload of its configuration (SIGHUP, or a change
/// of the file): the log level, where browsers go after login and logout, how long a
/// confirmation by the provider is trusted, and the access rules. Everything else needs a restart.
public final class LiveSettings: Sendable {
    /// Whether a reload applies a new value of `key`.
    public static func isReloadable(_ key: String) -> Bool {
        ["logLevel", "redirects.afterLogin", "redirects.afterLogout", "sessions.revalidateAfterSeconds"].contains(key) || key.hasPrefix("access.")
    }

    let redirects: Reloadable<GatehouseConfiguration.Redirects>
    let sessionRules: Reloadable<SessionManager.Configuration>
    let logLevel: Reloadable<Logger.Level>
    let access: Reloadable<AccessControl>
    private let provider: GatehouseConfiguration.Provider.Kind

    /// - Parameter logLevel: the level the process's log handlers share (see ``LineLogHandler``).
    public init(configuration: GatehouseConfiguration, logLevel: Reloadable<Logger.Level> = .init(.info)) {
        redirects = Reloadable(configuration.redirects)
        sessionRules = Reloadable(configuration.sessions.lifetime)
        self.logLevel = logLevel
        provider = configuration.provider.kind
        access = Reloadable(AccessControl(configuration.access, provider: provider))
    }

    /// Takes the reloadable settings of `configuration`.
    func apply(_ configuration: GatehouseConfiguration) {
        redirects.set(configuration.redirects)
        var rules = sessionRules.value
        rules.revalidateAfter = configuration.sessions.lifetime.revalidateAfter
        sessionRules.set(rules)
        logLevel.set(configuration.logLevel)
        access.set(AccessControl(configuration.access, provider: provider))
    }
}
