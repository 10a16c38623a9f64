import Synchronization
import Testing

@testable import Gatehouse

@Suite("Metric handle cache")
struct MetricHandleCacheTests {
    final class Handle: Sendable {}

    /// How many handles the cache asked for.
    final class MakeCount: Sendable {
        let value = Mutex(0)
    }

    @Test("one handle per series, however many requests ask for it at once")
    func oneHandlePerSeries() async {
        let cache = MetricHandleCache<Handle>()
        let made = MakeCount()
        let series = MetricHandleCache<Handle>.Series(name: "requests", dimensions: [("route", "/dashboard"), ("status", "200")])
        let handles = await withTaskGroup(of: ObjectIdentifier.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    ObjectIdentifier(
                        cache.handle(for: series) {
                            made.value.withLock { $0 += 1 }; return Handle()
                        }
                    )
                }
            }
            return await group.reduce(into: Set<ObjectIdentifier>()) { $0.insert($1) }
        }
        #expect(handles.count == 1)
        #expect(made.value.withLock { $0 } == 1)
    }

    @Test("a different label value, label name or metric name is a different series")
    func seriesAreDistinct() {
        let cache = MetricHandleCache<Handle>()
        let all: [MetricHandleCache<Handle>.Series] = [
            .init(name: "requests", dimensions: [("status", "200")]),
            .init(name: "requests", dimensions: [("status", "500")]),
            .init(name: "requests", dimensions: [("code", "200")]),
            .init(name: "calls", dimensions: [("status", "200")]),
            .init(name: "requests", dimensions: []),
        ]
        let handles = all.map { series in ObjectIdentifier(cache.handle(for: series) { Handle() }) }
        #expect(Set(handles).count == all.count)
        #expect(ObjectIdentifier(cache.handle(for: all[0]) { Handle() }) == handles[0])
    }
}
