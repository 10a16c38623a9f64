import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

// The ceiling Gatehouse's benchmark measures against: Hummingbird, the same version and build as
// the gateway's, answering `GET /hello` with five bytes and nothing else (no middleware, no logging).
// `GET /megabyte` (1 MiB), `/hello` and `/open/hello` are also the app behind the gateway in the proxy measurements.
//
//   bare-hummingbird [PORT]                    prints "listening on http://127.0.0.1:PORT" once it accepts connections
//   bare-hummingbird [PORT] --log-requests     the same with Hummingbird's own request log (a line per request, at info):
//                                              what the framework's logging alone costs
//   bare-hummingbird [PORT] --forward-to URL   every GET passed to URL with AsyncHTTPClient and nothing else (no
//                                              gate, no header rules, no log): the floor of a proxy on this stack
let arguments = Array(CommandLine.arguments.dropFirst())
let port = arguments.first.flatMap { Int($0) } ?? 0
let logsRequests = arguments.contains("--log-requests")
let forwardTarget = arguments.firstIndex(of: "--forward-to").flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }

/// A request's context that knows the event loop serving its connection.
struct LoopContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let eventLoop: any EventLoop
    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        eventLoop = source.channel.eventLoop
    }
}

var logger = Logger(label: "bare-hummingbird")
logger.logLevel = logsRequests ? .info : .warning
let router = Router(context: LoopContext.self)
if logsRequests {
    router.add(middleware: LogRequestsMiddleware(.info))
}
let megabyte = ByteBuffer(repeating: UInt8(ascii: "a"), count: 1 << 20)
// One client per event loop, as the gateway has: the app's connection is served by the thread
// that serves the client's.
var clients: [(eventLoop: any EventLoop, client: HTTPClient)] = []
if let forwardTarget {
    var configuration = HTTPClient.Configuration()
    configuration.redirectConfiguration = .disallow
    configuration.decompression = .disabled
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 512
    clients = MultiThreadedEventLoopGroup.singleton.makeIterator().map {
        ($0, HTTPClient(eventLoopGroupProvider: .shared($0), configuration: configuration))
    }
    let forwarders = clients
    router.get("**") { request, context -> Response in
        let forwarder = (forwarders.first { $0.eventLoop === context.eventLoop } ?? forwarders[0]).client
        let answer = try await forwarder.execute(HTTPClientRequest(url: forwardTarget + request.uri.description), timeout: .seconds(30))
        var headers = HTTPFields()
        for header in answer.headers {
            if let name = HTTPField.Name(header.name) { headers.append(HTTPField(name: name, value: header.value)) }
        }
        return Response(status: .init(code: Int(answer.status.code)), headers: headers, body: ResponseBody(asyncSequence: answer.body))
    }
} else {
    router.get("hello") { _, _ in "hello" }
    router.get("open/hello") { _, _ in "hello" }
    router.get("megabyte") { _, _ in Response(status: .ok, body: .init(byteBuffer: megabyte)) }
}
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { channel in
        FileHandle.standardOutput.write(Data("listening on http://127.0.0.1:\(channel.localAddress?.port ?? 0)\n".utf8))
    },
    logger: logger
)
try await app.runService()
for (_, client) in clients { try await client.shutdown().get() }
