/// Carries a loop-confined value (a `Connection`, a handler, any non-`Sendable` state)
/// across threads to its own loop, and checks on every access that the access happens
/// on that loop: the one sanctioned way to hand such a value to `loop.execute`.
///
/// Why `@unchecked Sendable` is sound: the value is reachable only through `value`,
/// which checks in every build (one atomic load and a compare) that the caller is on
/// `loop`'s thread, or that the loop is not running, so whoever holds it owns it. A
/// `LoopBound` is made either on that loop (`init(_:on:)`, checked too) or from a value
/// nothing else refers to (`init(transferring:to:)`, whose `sending` the compiler
/// checks). Moving the box between threads is then safe; touching the value off its
/// loop stops the process with a clear message.
public struct LoopBound<Value>: @unchecked Sendable {
    private let stored: Value
    /// The loop whose thread alone may use `value`.
    public let loop: EventLoop

    /// Binds `value` to `loop`. Call on `loop`'s thread, where `value` lives.
    public init(_ value: Value, on loop: EventLoop) {
        loop.preconditionInLoop()
        self.stored = value
        self.loop = loop
    }

    /// Binds a value nothing else refers to yet (`sending`: the compiler checks that the
    /// caller keeps no other reference) to `loop`, from any thread. Use it to build
    /// loop-owned state before handing it over.
    public init(transferring value: sending Value, to loop: EventLoop) {
        self.stored = value
        self.loop = loop
    }

    /// The value; only on `loop`'s thread.
    public var value: Value {
        loop.preconditionInLoop()
        return stored
    }
}

extension EventLoop {
    /// Stops the process with a clear message when not on this loop's thread, in every
    /// build (for the cross-thread boundaries, where a mistake would be a data race).
    func preconditionInLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(ownsCurrentThread, "a loop-bound value was used off its event loop's thread", file: file, line: line)
    }
}
