import NIOCore
import NIOPosix
import Testing

/// Ports for child processes that cannot report the port they bound (nginx, `gatehouse demo`).
enum LoopbackPort {
    /// A loopback port that was free a moment ago.
    static func free() throws -> Int {
        let socket = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        defer { try? socket.close().wait() }
        return try #require(socket.localAddress?.port)
    }
}
