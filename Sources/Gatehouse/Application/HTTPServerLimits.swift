import Hummingbird
import HummingbirdCore
import NIOCore

/// The limits the HTTP/1 server puts on what a client may send before any route sees it.
///
/// A request over a limit is refused by the HTTP parser with `400 Bad Request` and the connection
/// is closed; a connection that does not complete a request head within the idle timeout (a
/// slowloris client, or a forgotten keep-alive connection) is closed.
public struct HTTPServerLimits: Sendable, Equatable {
    /// The longest request line (the URL counts here) and the longest single header, `Cookie` included.
    public var maxFieldBytes: Int
    /// The most bytes all headers of one request may take together.
    public var maxHeaderBytes: Int
    /// The most headers one request may carry.
    public var maxHeaderCount: Int
    /// How long a connection may be open without a complete request head.
    public var idleTimeout: Duration

    public init(maxFieldBytes: Int = 8 * 1024, maxHeaderBytes: Int = 32 * 1024, maxHeaderCount: Int = 100, idleTimeout: Duration = .seconds(30)) {
        self.maxFieldBytes = maxFieldBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.idleTimeout = idleTimeout
    }

    /// The Hummingbird server these limits describe.
    var server: HTTPServerBuilder {
        .http1(configuration: http1)
    }

    /// The HTTP/1 channel these limits describe.
    var http1: HTTP1Channel.Configuration {
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: maxFieldBytes,
            maxHeaderListSize: maxHeaderBytes,
            maxHeaderFieldCount: maxHeaderCount
        )
        return .init(additionalChannelHandlers: [CloseAfterUnhonouredUpgrade()], idleTimeout: TimeAmount(idleTimeout), httpDecoderConfiguration: decoder)
    }
}

extension GatehouseConfiguration.Listen {
    /// The HTTP limits for this listener: the defaults, with the configured idle timeout.
    public var limits: HTTPServerLimits {
        HTTPServerLimits(idleTimeout: idleTimeout)
    }
}
