import Foundation
import HTTPTypes
import NIOCore

/// The client a request comes from, as per-client limits count it: the connection's peer or,
/// when the peer is a proxy ``TrustedProxies`` names, the nearest `X-Forwarded-For` entry that is
/// not one itself (entries further left are the client's to write, and not believed).
///
/// IPv4 addresses count one by one; IPv6 addresses by their /64, which one subscriber holds whole.
struct ClientAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, the first 8 for IPv6; empty when the address is unknown (router tests).
    let bytes: [UInt8]

    static let unknown = ClientAddress(bytes: [])

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Counts `address` (4 or 16 bytes) as its client: IPv4-mapped IPv6 as IPv4, IPv6 by /64.
    init(addressBytes address: [UInt8]) {
        let v4 = TrustedProxies.mappedIPv4(address) ?? address
        self.init(bytes: v4.count == 16 ? Array(v4.prefix(8)) : v4)
    }

    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// Where the request comes from, the forwarded chain believed only as far as trusted proxies vouch for it.
    static func of(peer: SocketAddress?, headers: HTTPFields, trusted: TrustedProxies) -> ClientAddress {
        guard let peerText = peer?.ipAddress, let peerBytes = TrustedProxies.addressBytes(peerText) else { return .unknown }
        guard trusted.contains(bytes: peerBytes) else { return ClientAddress(addressBytes: peerBytes) }
        // Every hop appends: read from the right, past the proxies we trust, to the first we do not.
        let hops = headers[values: forwardedFor].flatMap { $0.split(separator: ",") }.reversed()
        for hop in hops.prefix(32) {
            let text = hop.trimmingCharacters(in: .whitespaces)
            guard let bytes = TrustedProxies.addressBytes(text) else { break }
            if !trusted.contains(bytes: bytes) { return ClientAddress(addressBytes: bytes) }
        }
        return ClientAddress(addressBytes: peerBytes)
    }

    var description: String {
        switch bytes.count {
        case 4: return bytes.map(String.init).joined(separator: ".")
        case 8: return stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":") + "::/64"
        default: return "unknown"
        }
    }
}
