import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The addresses whose forwarded headers (`X-Original-URI`, `X-Forwarded-Uri`,
/// `X-Forwarded-Method`) `/auth` believes: CIDR ranges such as `127.0.0.1/32` or `10.0.0.0/8`.
public struct TrustedProxies: Sendable, Equatable {
    /// One CIDR range: the network's address bytes (4 or 16) and how many leading bits count.
    struct Range: Sendable, Equatable {
        var network: [UInt8]
        var prefixLength: Int

        func contains(_ address: [UInt8]) -> Bool {
            address.count == network.count && Self.masked(address, prefixLength: prefixLength) == network
        }

        /// `address` with every bit past the first `prefixLength` cleared.
        static func masked(_ address: [UInt8], prefixLength: Int) -> [UInt8] {
            address.enumerated().map { index, byte in
                let bits = min(8, max(0, prefixLength - index * 8))
                return bits == 0 ? 0 : byte & (~UInt8(0) << (8 - bits))
            }
        }
    }

    private let ranges: [Range]

    /// Loopback only: a proxy on the same host.
    public static let loopback = TrustedProxies(ranges: [
        Range(network: [127, 0, 0, 0], prefixLength: 8), Range(network: Array(repeating: 0, count: 15) + [1], prefixLength: 128),
    ])

    private init(ranges: [Range]) {
        self.ranges = ranges
    }

    /// The ranges `cidrs` name (`ADDRESS/BITS`, or an address alone for just it), or the first
    /// entry that is not one.
    public static func parse(_ cidrs: [String]) -> Result<TrustedProxies, InvalidRange> {
        var ranges: [Range] = []
        for entry in cidrs {
            let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard var bytes = Self.addressBytes(String(parts[0])) else { return .failure(InvalidRange(entry: entry)) }
            guard var length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8, (0...(bytes.count * 8)).contains(length) else {
                return .failure(InvalidRange(entry: entry))
            }
            // An IPv4 range written as IPv6 (`::ffff:10.0.0.0/104`) is the IPv4 range: addresses are compared that way.
            if let v4 = Self.mappedIPv4(bytes), length >= 96 {
                (bytes, length) = (v4, length - 96)
            }
            ranges.append(Range(network: Range.masked(bytes, prefixLength: length), prefixLength: length))
        }
        return .success(TrustedProxies(ranges: ranges))
    }

    /// Whether a connection from `address` comes from a trusted proxy. An IPv4 address written
    /// as IPv6 (`::ffff:127.0.0.1`) counts as the IPv4 address.
    public func contains(_ address: SocketAddress?) -> Bool {
        guard let text = address?.ipAddress, let bytes = Self.addressBytes(text) else { return false }
        return contains(bytes: bytes)
    }

    /// Whether the address with these bytes (4 or 16, as ``addressBytes(_:)`` reads them) is a trusted proxy's.
    func contains(bytes: [UInt8]) -> Bool {
        let compared = Self.mappedIPv4(bytes) ?? bytes
        return ranges.contains { $0.contains(compared) }
    }

    /// An entry of `trustedProxies` that is not a CIDR range.
    public struct InvalidRange: Error, Equatable {
        public let entry: String
    }

    /// The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) stands for.
    static func mappedIPv4(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return nil }
        return Array(bytes[12...])
    }

    /// The address's bytes (4 for IPv4, 16 for IPv6), as `inet_pton` reads them.
    static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, text, &v4) == 1 { return v4 }
        var v6 = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET6, text, &v6) == 1 { return v6 }
        return nil
    }
}
