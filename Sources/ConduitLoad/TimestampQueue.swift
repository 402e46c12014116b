/// A FIFO of timestamps (send times of requests in flight), growing as needed and
/// allocating nothing until first used. Its capacity is a power of two, so positions wrap
/// with a mask: a division at every push and pop was 7 % of a pipelined run.
struct TimestampQueue {
    private var storage: [UInt64] = []
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func push(_ value: UInt64) {
        if count == storage.count {
            // Unroll into a larger array so the ring stays in order.
            var grown = [UInt64](repeating: 0, count: Swift.max(4, storage.count * 2))
            for index in 0..<count { grown[index] = storage[(head + index) & (storage.count - 1)] }
            storage = grown
            head = 0
        }
        storage[(head + count) & (storage.count - 1)] = value
        count += 1
    }

    mutating func pop() -> UInt64 {
        precondition(count > 0)
        let value = storage[head]
        head = (head + 1) & (storage.count - 1)
        count -= 1
        return value
    }

    mutating func removeAll() {
        head = 0
        count = 0
    }
}
