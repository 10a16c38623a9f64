import Foundation
import Hummingbird
import Logging

// The ceiling Gatehouse's benchmark measures against: Hummingbird, the same version and build as
// the gateway's, answering `GET /hello` with five bytes and nothing else (no middleware, no logging).
// `GET /megabyte` (1 MiB), `/hello` and `/open/hello` are also the app behind the gateway in the proxy measurements.
//
//   bare-hummingbird [PORT]     prints "listening on http://127.0.0.1:PORT" once it accepts connections
let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 0
let router = Router()
router.get("hello") { _, _ in "hello" }
router.get("open/hello") { _, _ in "hello" }
let megabyte = ByteBuffer(repeating: UInt8(ascii: "a"), count: 1 << 20)
router.get("megabyte") { _, _ in Response(status: .ok, body: .init(byteBuffer: megabyte)) }
var logger = Logger(label: "bare-hummingbird")
logger.logLevel = .warning
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { channel in
        FileHandle.standardOutput.write(Data("listening on http://127.0.0.1:\(channel.localAddress?.port ?? 0)\n".utf8))
    },
    logger: logger
)
try await app.runService()
