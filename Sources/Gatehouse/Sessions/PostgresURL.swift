import Foundation
import NIOSSL
import PostgresNIO

/// A `sessions.postgresURL`, read the way libpq reads one: `postgres://USER:PASSWORD@HOST:PORT/DATABASE`
/// with an optional `sslmode` and `sslrootcert`.
///
/// TLS follows libpq's modes, with a safer default: without `sslmode`, a loopback host gets
/// `prefer` and any other host `require`, so a password never crosses a network in clear unless the
/// URL says `sslmode=disable`. `verify-ca` and `verify-full` check the server's certificate
/// against `sslrootcert` (a PEM file of CA certificates) or the system's roots; `verify-full`
/// also checks the host name. Unknown modes are refused, as libpq refuses them.
public struct PostgresURL: Sendable {
    /// How TLS is negotiated and what is checked.
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String?
    public var tlsMode: TLSMode
    /// The CA certificates (PEM) that `verify-ca` and `verify-full` trust; the system's when nil.
    public var rootCertificatePath: String?

    /// Why a URL cannot be used; never quotes the URL (it may hold the password).
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
        /// What to write instead.
        public let fix: String
    }

    public init(_ url: String) throws(Problem) {
        guard let components = URLComponents(string: url), let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme),
            let host = components.host, !host.isEmpty, let user = components.user
        else {
            throw Problem(
                description: "is not a postgres://user:password@host:port/database URL",
                fix: "write it as postgres://USER:PASSWORD@HOST:5432/DATABASE (add ?sslmode=disable for a server without TLS)"
            )
        }
        self.host = host
        port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        password = components.password?.removingPercentEncoding
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path
        let query = components.queryItems ?? []
        rootCertificatePath = query.first { $0.name == "sslrootcert" }?.value
        if let mode = query.first(where: { $0.name == "sslmode" })?.value {
            guard let known = TLSMode(rawValue: mode) else {
                throw Problem(
                    description: "has sslmode=\(mode.prefix(20)), which is not a TLS mode",
                    fix:
                        "use one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", ")) (verify-full with sslrootcert=/path/to/ca.pem checks the server)"
                )
            }
            tlsMode = known
        } else {
            tlsMode = LoopbackHost.contains(host) ? .prefer : .require
        }
        if rootCertificatePath != nil, ![.verifyCA, .verifyFull, .require].contains(tlsMode) {
            throw Problem(
                description: "has sslrootcert but sslmode=\(tlsMode.rawValue), which checks no certificate",
                fix: "add sslmode=verify-full (or verify-ca) to check the server against that CA"
            )
        }
    }

    /// The TLS settings for PostgresNIO; reads the CA file, so a missing one is an error here.
    public func tls() throws(Problem) -> PostgresClient.Configuration.TLS {
        var settings = TLSConfiguration.makeClientConfiguration()
        switch tlsMode {
        case .disable:
            return .disable
        case .allow, .prefer:
            // As libpq: encryption when the server offers it, and no certificate check.
            settings.certificateVerification = .none
            return .prefer(settings)
        case .require:
            // As libpq: with a CA file, `require` checks the chain like verify-ca.
            settings.certificateVerification = rootCertificatePath == nil ? .none : .noHostnameVerification
        case .verifyCA:
            settings.certificateVerification = .noHostnameVerification
        case .verifyFull:
            settings.certificateVerification = .fullVerification
        }
        if let rootCertificatePath {
            do {
                settings.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificatePath))
            } catch {
                throw Problem(
                    description: "names sslrootcert=\(rootCertificatePath), which is not a readable PEM file of certificates",
                    fix: "point sslrootcert at the CA certificate that signed the server's (PEM)"
                )
            }
        }
        return .require(settings)
    }
}
