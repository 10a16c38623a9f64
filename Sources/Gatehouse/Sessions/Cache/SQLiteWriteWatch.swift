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
    /// The database file's name: its journal and WAL are named by it, other files in the directory are not watched.
    private let fileName: [UInt8]
    private struct State {
        /// Checks of `data_version` under way; reads bypass the cache while there is one.
        var checking = 0
        /// The last `data_version` read; nil before the first.
        var version: Int?
    }
    private let state = Mutex(State())
    private let checkCount = Atomic(0)

    /// How many times SQLite was asked for `data_version` (each time a database file was written).
    public var checks: Int { checkCount.load(ordering: .relaxed) }

    /// Watches the directory of the database at `path`; nil when the system cannot watch it
    /// (then nothing may be cached in front of the file).
    public init?(store: SQLiteSessionStore, path: String) {
        let file = URL(fileURLWithPath: SessionKeyFile.absolute(path))
        let directory = file.deletingLastPathComponent().path
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        guard inotify_add_watch(descriptor, directory, UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE)) >= 0 else {
            close(descriptor)
            return nil
        }
        self.store = store
        self.descriptor = descriptor
        self.fileName = Array(file.lastPathComponent.utf8)
    }

    deinit {
        close(descriptor)
    }

    public func prepareRead(of cache: SessionCache) async -> Bool {
        if drainEvents() {
            state.withLock { $0.checking += 1 }
            checkCount.add(1, ordering: .relaxed)
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

    /// Reads every event the kernel has queued; whether any was of the database's files (the
    /// database, its `-wal` or `-journal`): a log written beside it does not count.
    private func drainEvents() -> Bool {
        var any = false
        withUnsafeTemporaryAllocation(byteCount: 8192, alignment: 8) { buffer in
            while case let count = read(descriptor, buffer.baseAddress, buffer.count), count > 0 {
                var offset = 0
                // Each event: wd, mask, cookie and len (four 32-bit words), then len bytes of NUL-padded name.
                while offset + 16 <= count {
                    let nameLength = Int(buffer.load(fromByteOffset: offset + 12, as: UInt32.self))
                    let name = UnsafeRawBufferPointer(rebasing: buffer[(offset + 16)..<min(count, offset + 16 + nameLength)])
                    if name.starts(with: fileName) { any = true }
                    offset += 16 + nameLength
                }
            }
        }
        return any
    }
}
