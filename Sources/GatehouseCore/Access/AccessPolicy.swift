/// The access rules of a gateway: the rules every session must pass (they decide who may sign in
/// at all), and what each path prefix asks for.
public struct AccessPolicy: Sendable, Equatable {
    /// What a path asks of a request.
    public enum Requirement: Sendable, Equatable {
        /// Anyone, signed in or not.
        case `public`
        /// Any live session.
        case authenticated
        /// A live session whose user passes these rules (they replace the top-level lists).
        case rules(AccessRule)

        /// Whether a signed-in user with `identity` meets it.
        public func admits(_ identity: AccessIdentity) -> Bool {
            switch self {
            case .public, .authenticated: true
            case .rules(let rule): rule.evaluate(identity).isAllowed
            }
        }
    }

    /// A path prefix and its requirement.
    public struct Route: Sendable, Equatable {
        public var pathPrefix: String
        public var requirement: Requirement

        public init(pathPrefix: String, requirement: Requirement) {
            self.pathPrefix = pathPrefix
            self.requirement = requirement
        }
    }

    /// What every session must pass: at login, at each revalidation, and after a rule change.
    public var sessionRule: AccessRule
    /// Longest prefix first.
    public private(set) var routes: [Route]

    public init(sessionRule: AccessRule = AccessRule(), routes: [Route] = []) {
        self.sessionRule = sessionRule
        self.routes = routes.sorted { $0.pathPrefix.utf8.count > $1.pathPrefix.utf8.count }
    }

    /// The requirement of the longest prefix `path` starts with; `authenticated` when none does.
    /// A prefix ending in `/` also covers the path without it (`/admin/` covers `/admin`).
    /// Compared byte by byte; `path` should be normalized first (``RequestPath/normalized(_:)``).
    public func requirement(forPath path: String) -> Requirement {
        route(forPath: path, folded: false)?.requirement ?? .authenticated
    }

    /// What every reading of a forwarded path asks (``RequestPath/readings(_:)``): each reading's
    /// requirement, and the requirement it has when case is ignored, as Express or ASP.NET route
    /// `/ADMIN/` to `/admin/`. A request must pass them all.
    public func requirements(forReadings readings: [String]) -> [Requirement] {
        var found: [Requirement] = []
        for path in readings {
            for requirement in [requirement(forPath: path), route(forPath: path, folded: true)?.requirement ?? .authenticated]
            where !found.contains(requirement) {
                found.append(requirement)
            }
        }
        return found
    }

    private func route(forPath path: String, folded: Bool) -> Route? {
        let path = folded ? Self.asciiLowercased(path) : Array(path.utf8)
        return routes.first { route in
            let prefix = folded ? Self.asciiLowercased(route.pathPrefix) : Array(route.pathPrefix.utf8)
            return path.starts(with: prefix) || (prefix.last == UInt8(ascii: "/") && path == Array(prefix.dropLast()))
        }
    }

    private static func asciiLowercased(_ text: String) -> [UInt8] {
        text.utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 }
    }
}
