import Synchronization

/// A value a component sets in `start` and takes back in `shutdown`.
public final class MutexBox<Value: Sendable>: Sendable {
    private let value: Mutex<Value?>

    public init(_ initial: Value?) { value = Mutex(initial) }

    public func set(_ new: Value) { value.withLock { $0 = new } }
    public func get() -> Value? { value.withLock { $0 } }
    public func take() -> Value? { value.withLock { v in defer { v = nil }; return v } }
}
