/// Keeps a connection's answers in the order its requests came when some answers come
/// later than others (asynchronous actions finish in any order). Each request takes a
/// sequence number; an answer is written when every earlier one has been, else parked.
struct AnswerOrder {
    /// The sequence number the next request takes.
    private(set) var nextSequence = 0
    /// The sequence number whose answer goes out next.
    private(set) var nextToWrite = 0
    private var parked: [Int: Response] = [:]

    /// Numbers the next request.
    mutating func begin() -> Int {
        defer { nextSequence += 1 }
        return nextSequence
    }

    /// True when the answer to `sequence` may be written now.
    func isNext(_ sequence: Int) -> Bool { sequence == nextToWrite }

    /// The answer to `nextToWrite` was written.
    mutating func wrote() { nextToWrite += 1 }

    /// Keeps `response` until every earlier answer is written.
    mutating func park(_ sequence: Int, _ response: Response) { parked[sequence] = response }

    /// The next answer that may be written now, if it has come; counts it as written.
    mutating func takeReady() -> Response? {
        guard let response = parked.removeValue(forKey: nextToWrite) else { return nil }
        nextToWrite += 1
        return response
    }

    /// True when every request so far has been answered.
    var isIdle: Bool { nextToWrite == nextSequence }
}
