import Synchronization

/// A value that a reload of the configuration may replace while the gateway serves; readers
/// always see the latest whole value.
public final class Reloadable<Value: Sendable>: Sendable {
    private let current: Mutex<Value>

    public init(_ value: Value) {
        current = Mutex(value)
    }

    /// The value now.
    public var value: Value {
        current.withLock { $0 }
    }

    /// Replaces the value.
    public func set(_ value: Value) {
        current.withLock { $0 = value }
    }
}
