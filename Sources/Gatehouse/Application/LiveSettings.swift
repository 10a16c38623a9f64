import Logging

/// The settings a running gateway takes from a reload of its configuration (SIGHUP, or a change
/// of the file): the log level, where browsers go after login and logout, and how long a
/// confirmation by the provider is trusted. Everything else needs a restart.
public final class LiveSettings: Sendable {
    /// The keys whose new values a reload applies.
    public static let reloadableKeys: Set<String> = ["logLevel", "redirects.afterLogin", "redirects.afterLogout", "sessions.revalidateAfterSeconds"]

    let redirects: Reloadable<GatehouseConfiguration.Redirects>
    let sessionRules: Reloadable<SessionManager.Configuration>
    let logLevel: Reloadable<Logger.Level>

    /// - Parameter logLevel: the level the process's log handlers share (see ``LineLogHandler``).
    public init(configuration: GatehouseConfiguration, logLevel: Reloadable<Logger.Level> = .init(.info)) {
        redirects = Reloadable(configuration.redirects)
        sessionRules = Reloadable(configuration.sessions.lifetime)
        self.logLevel = logLevel
    }

    /// Takes the reloadable settings of `configuration`.
    func apply(_ configuration: GatehouseConfiguration) {
        redirects.set(configuration.redirects)
        var rules = sessionRules.value
        rules.revalidateAfter = configuration.sessions.lifetime.revalidateAfter
        sessionRules.set(rules)
        logLevel.set(configuration.logLevel)
    }
}
