/// A way for the mock provider's HTTP API to misbehave, so tests can watch the gateway fail closed.
public enum MockFault: Sendable, Equatable {
    /// Answer with this status and a short plain-text body.
    case status(Int)
    /// Answer normally, but only after this long.
    case delay(Duration)
    /// Answer with this status, content type and body verbatim (garbage, HTML, odd JSON).
    case body(status: Int, contentType: String, text: String)
    /// Answer with a 302 to this location.
    case redirect(location: String)
    /// Answer 200 with a JSON body that arrives one byte per `interval`, never fast enough.
    case dripBody(interval: Duration)
    /// Answer 200 with a JSON body of this many bytes, streamed as fast as the client reads it.
    case hugeBody(byteCount: Int)
}
