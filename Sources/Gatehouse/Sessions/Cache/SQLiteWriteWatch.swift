import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps a ``SessionCache`` in front of a SQLite file true when another process writes the file
/// too (`gatehouse sessions revoke` while the gateway runs).
///
/// The kernel says (inotify) when a file in the database's directory was written; only then is
/// SQLite asked whether a connection other than the gateway's committed since it last asked
/// (`PRAGMA data_version`), and if one did the cache is flushed. Until that answer is in, reads
/// go to the store. A write is queued by the kernel before the writer's commit returns, so the
/// request after another process's commit always sees it. With no writes, a read costs one
/// non-blocking `read` of the watch.
public final class SQLiteWriteWatch: SessionCacheCoherence {
    private let store: SQLiteSessionStore
    private let descriptor: Int32
    private struct State {
        /// Checks of `data_version` under way; reads bypass the cache while there is one.
        var checking = 0
        /// The last `data_version` read; nil before the first.
        var version: Int?
    }
    private let state = Mutex(State())

    /// Watches the directory of the database at `path`; nil when the system cannot watch it
    /// (then nothing may be cached in front of the file).
    public init?(store: SQLiteSessionStore, path: String) {
        let directory = URL(fileURLWithPath: SessionKeyFile.absolute(path)).deletingLastPathComponent().path
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        guard inotify_add_watch(descriptor, directory, UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE)) >= 0 else {
            close(descriptor)
            return nil
        }
        self.store = store
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    public func prepareRead(of cache: SessionCache) async -> Bool {
        if drainEvents() {
            state.withLock { $0.checking += 1 }
            let version = try? await store.dataVersion()
            let changed = state.withLock { state -> Bool in
                defer { state.version = version }
                return version == nil || version != state.version
            }
            if changed { cache.flush() }
            state.withLock { $0.checking -= 1 }
        }
        return state.withLock { $0.checking == 0 }
    }

    /// Reads every event the kernel has queued; whether there was any.
    private func drainEvents() -> Bool {
        var any = false
        withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 8) { buffer in
            while read(descriptor, buffer.baseAddress, buffer.count) > 0 { any = true }
        }
        return any
    }
}
