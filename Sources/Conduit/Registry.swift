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

    private struct Slot {
        var target: Target?
        var generation: UInt32 = 0
    }

    /// Generations wrap below 2^28: a ring completion keeps its operation's kind in the
    /// top four bits of the token.
    private static let generationLimit: UInt32 = 1 << 28

    private var slots: [Slot] = []
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
            slots.append(contentsOf: repeatElement(Slot(), count: max(index + 1 - slots.count, slots.count)))
        }
        // Never 0, so a zeroed token can never match a live registration.
        nextGeneration = nextGeneration == Self.generationLimit - 1 ? 1 : nextGeneration + 1
        if slots[index].target == nil { count += 1 }
        slots[index] = Slot(target: target, generation: nextGeneration)
        return Self.token(descriptor: descriptor, generation: nextGeneration)
    }

    /// The target a token names, or nil when it is stale or unknown.
    @inline(__always)
    func target(for token: UInt64) -> Target? {
        let index = Int(token & 0xFFFF_FFFF)
        guard index < slots.count else { return nil }
        let slot = slots[index]
        return slot.generation == UInt32(truncatingIfNeeded: token >> 32) ? slot.target : nil
    }

    /// Forgets `descriptor` (its generation stays, so its old events stay stale).
    mutating func remove(descriptor: Int32) {
        let index = Int(descriptor)
        guard index >= 0, index < slots.count, slots[index].target != nil else { return }
        slots[index].target = nil
        count -= 1
    }

    /// Everything registered, as a snapshot (targets may close while it is walked).
    var all: [Selectable] { slots.compactMap { $0.target?.selectable } }
}
