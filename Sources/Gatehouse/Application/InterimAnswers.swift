import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Writes an informational answer to a request's connection ahead of its final answer.
///
/// Hummingbird's routes return one answer per request. A client that sends `Expect: 100-continue`
/// (curl does for uploads over 1 MiB) waits for `100 Continue` before it sends the body, and
/// without one it waits a second before sending it anyway; the gateway sends one when it will
/// read the body.
public struct InterimAnswers: Sendable {
    /// The connection; `nil` where there is none (router tests).
    let channel: (any Channel)?

    /// Whether a request with `headers` waits for a `100 Continue` before sending its body.
    static func expectsContinue(_ headers: HTTPFields) -> Bool {
        headers[values: .expect].contains { $0.lowercased() == "100-continue" }
    }

    /// Tells the client to send its body: `100 Continue`, written before anything else is.
    func sendContinue() async {
        guard let channel else { return }
        // A connection that is gone has no client to tell; the final answer meets the same end.
        try? await channel.writeAndFlush(HTTPResponsePart.head(HTTPResponse(status: .continue))).get()
    }
}
