/// What an event loop has registered, indexed by descriptor, with a generation per
/// registration: the token an epoll event or ring completion carries holds both, so an
/// event already in a batch for a descriptor that has since been closed and reused is
/// recognised as stale and dropped instead of reaching the new owner.
struct Registry {
    /// A registered object. An enum of the two classes rather than a protocol
    /// existential: one word per slot, and the transports call the class directly.
    enum Target {
        case connection(Connection)
        case listener(Listener)

        /// What the loop asks of everything registered.
        var selectable: Selectable {
            switch self {
            case .connection(let connection): connection
            case .listener(let listener): listener
            }
        }
    }

    /// A slot holds its object unowned, with a kind, so that the transports find it
    /// for an event without a retain and a release (about 60 instructions per event):
    /// `owners` keeps it alive, and an object removed during a loop turn stays alive in
    /// `retired` until the turn has ended (`releaseRetired`), since its event may still be
    /// on the stack.
    private struct Slot {
        var object: UnsafeMutableRawPointer?
        var generation: UInt32 = 0
        var isListener = false
    }

    /// Generations wrap below 2^28: a ring completion keeps its operation's kind in the
    /// top four bits of the token.
    private static let generationLimit: UInt32 = 1 << 28

    private var slots: [Slot] = []
    /// What keeps each slot's object alive.
    private var owners: [Target?] = []
    /// Objects removed since the loop's turn began.
    private var retired: [Target] = []
    /// True during a transport's turn (`beginTurn` … `releaseRetired`), while events
    /// reach objects through `object(for:)`: only then is what is removed kept. Outside
    /// a turn (timers, tasks, a stopped loop) it goes at once: whoever removes it holds
    /// it, and a retired connection kept past the run would keep its loop alive.
    private var holdsRemoved = false
    private var nextGeneration: UInt32 = 0
    /// Number of descriptors registered.
    private(set) var count = 0

    /// The token for `descriptor` in `generation`: generation high, descriptor low.
    static func token(descriptor: Int32, generation: UInt32) -> UInt64 {
        UInt64(generation) << 32 | UInt64(UInt32(bitPattern: descriptor))
    }

    /// The descriptor a token names.
    static func descriptor(of token: UInt64) -> Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: token)) }

    /// Records `target` for `descriptor` under a fresh generation; returns its token.
    mutating func add(_ target: Target, descriptor: Int32) -> UInt64 {
        precondition(descriptor >= 0, "registering a closed descriptor")
        let index = Int(descriptor)
        if index >= slots.count {
            let grow = max(index + 1 - slots.count, slots.count)
            slots.append(contentsOf: repeatElement(Slot(), count: grow))
            owners.append(contentsOf: repeatElement(nil, count: grow))
        }
        // Never 0, so a zeroed token can never match a live registration.
        nextGeneration = nextGeneration == Self.generationLimit - 1 ? 1 : nextGeneration + 1
        if let replaced = owners[index] {
            if holdsRemoved { retired.append(replaced) }
        } else {
            count += 1
        }
        owners[index] = target
        switch target {
        case .connection(let connection):
            slots[index] = Slot(object: Unmanaged.passUnretained(connection).toOpaque(), generation: nextGeneration)
        case .listener(let listener):
            slots[index] = Slot(
                object: Unmanaged.passUnretained(listener).toOpaque(), generation: nextGeneration, isListener: true)
        }
        return Self.token(descriptor: descriptor, generation: nextGeneration)
    }

    /// The target a token names (retained), or nil when it is stale or unknown.
    @inline(__always)
    func target(for token: UInt64) -> Target? {
        let index = Int(token & 0xFFFF_FFFF)
        guard index < slots.count, slots[index].generation == UInt32(truncatingIfNeeded: token >> 32) else { return nil }
        return owners[index]
    }

    /// Where the object a token names is, unowned, and whether it is a listener; nil
    /// when the token is stale or unknown. Use it within the loop's turn only (through
    /// `Unmanaged._withUnsafeGuaranteedRef`): what closes meanwhile stays alive until
    /// `releaseRetired`. A value, not a call taking closures: calling a method of this
    /// struct with closures copied it out of the loop, retaining its three arrays.
    @inline(__always)
    func object(for token: UInt64) -> (pointer: UnsafeMutableRawPointer, isListener: Bool)? {
        let index = Int(token & 0xFFFF_FFFF)
        guard index < slots.count else { return nil }
        let slot = slots[index]
        guard slot.generation == UInt32(truncatingIfNeeded: token >> 32), let object = slot.object else { return nil }
        return (object, slot.isListener)
    }

    /// Forgets `descriptor` (its generation stays, so its old events stay stale). During
    /// a turn the object is kept until `releaseRetired`.
    mutating func remove(descriptor: Int32) {
        let index = Int(descriptor)
        guard index >= 0, index < slots.count, let owner = owners[index] else { return }
        if holdsRemoved { retired.append(owner) }
        owners[index] = nil
        slots[index].object = nil
        count -= 1
    }

    /// A transport's turn begins: what is removed from now on is kept until
    /// `releaseRetired`.
    mutating func beginTurn() { holdsRemoved = true }

    /// The turn has ended: lets go of what was removed during it. Called when no event
    /// of theirs is being handled.
    mutating func releaseRetired() {
        holdsRemoved = false
        guard !retired.isEmpty else { return }
        let released = retired
        retired = []
        _ = released
    }

    /// Everything registered, as a snapshot (targets may close while it is walked).
    var all: [Selectable] { owners.compactMap { $0?.selectable } }
}
