import Synchronization

/// Metric handles made once per label set and reused.
///
/// Making a swift-metrics handle asks the factory, and Prometheus's validates the name and labels
/// and finds the series in its registry under a lock: work the hot path should not repeat on
/// every request. The label sets come from small fixed sets, so the cache stays small.
final class MetricHandleCache<Handle: Sendable>: Sendable {
    /// A metric's name and its labels, as name and value pairs in order.
    struct Series: Hashable, Sendable {
        let name: String
        let labels: [String]

        init(name: String, dimensions: [(String, String)]) {
            self.name = name
            self.labels = dimensions.flatMap { [$0.0, $0.1] }
        }
    }

    private let handles = Mutex<[Series: Handle]>([:])

    /// The handle for `series`, made with `make` the first time it is asked for.
    func handle(for series: Series, make: () -> Handle) -> Handle {
        handles.withLock { handles in
            if let handle = handles[series] { return handle }
            let handle = make()
            handles[series] = handle
            return handle
        }
    }
}
