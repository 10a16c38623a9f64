import Foundation
import Hummingbird
import Logging

// The ceiling Gatehouse's benchmark measures against: Hummingbird, the same version and build as
// the gateway's, answering `GET /hello` with five bytes and nothing else (no middleware, no logging).
//
//   bare-hummingbird [PORT]     prints "listening on http://127.0.0.1:PORT" once it accepts connections
let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 0
let router = Router()
router.get("hello") { _, _ in "hello" }
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
