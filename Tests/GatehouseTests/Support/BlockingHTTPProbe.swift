import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// HTTP/1.1 requests over blocking sockets, run on a thread of their own: for times that the
/// test process's task scheduling (every other suite runs beside it) must not blur.
enum BlockingHTTPProbe {
    /// The status code `method path` answers on loopback `port`, or 0 without an answer within 5 s.
    static func status(port: Int, method: String = "GET", path: String, headers: [String: String] = [:]) -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return 0 }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return 0 }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while received.count < 12 {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { return 0 }
            received += buffer[..<count]
        }
        // "HTTP/1.1 200 ..."
        return Int(String(decoding: received[9..<12], as: UTF8.self)) ?? 0
    }

    /// Runs `body` on a new thread and returns what it returned.
    static func onThread<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }
}
