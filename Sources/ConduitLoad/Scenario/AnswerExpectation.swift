import Conduit
import Glibc

/// What a request's answer must be, once its framing has cut it from the stream.
public enum AnswerExpectation: Sendable, Equatable {
    /// Exactly these bytes.
    case exact([UInt8])
    /// Bytes that start with these.
    case prefix([UInt8])
    /// An answer this POSIX extended regular expression matches (anywhere, unless
    /// anchored with `^`/`$`), NUL bytes included.
    case matches(AnswerPattern)
    /// Any well-framed answer.
    case anyAnswer
    /// Any well-framed answer that is not a RESP error (`-…` or RESP3's `!…`).
    case notRESPError

    /// Whether `answer` (one whole framed message) is what was expected, and if not, why.
    func check(_ answer: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .exact(let bytes):
            return bytes.count == answer.count && bytes.withUnsafeBytes { Self.equal($0, answer) }
        case .prefix(let bytes):
            return bytes.count <= answer.count
                && bytes.withUnsafeBytes { Self.equal($0, UnsafeRawBufferPointer(rebasing: answer.prefix($0.count))) }
        case .matches(let pattern):
            return pattern.matches(answer)
        case .anyAnswer:
            return true
        case .notRESPError:
            return !RESPFraming.isError(answer)
        }
    }

    /// The error kind a run counts for an answer this expectation refused.
    package var failureKind: String {
        switch self {
        case .exact: LoadErrors.wrongResponse
        case .prefix: "wrong answer (does not start with the expected bytes)"
        case .matches: "wrong answer (the regular expression does not match)"
        case .anyAnswer: "wrong answer"
        case .notRESPError: "RESP error answer"
        }
    }

    private static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }
}

/// A compiled POSIX extended regular expression, shared by every connection of every
/// loop. `@unchecked Sendable`: after `init` the compiled pattern is only read, through a
/// pointer fixed for its life (never a Swift property access, which as an `inout` would
/// be a write racing between loops), and glibc's `regexec` takes the pattern's own lock
/// (`dfa->lock`) for its internal state.
public final class AnswerPattern: @unchecked Sendable, Equatable {
    /// The expression as written.
    public let source: String
    private let compiled = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)

    /// Compiles `source`; a bad expression throws with the library's own message.
    public init(_ source: String) throws(ScenarioError) {
        self.source = source
        compiled.initialize(to: regex_t())
        let status = regcomp(compiled, source, REG_EXTENDED | REG_NOSUB)
        guard status == 0 else {
            var message = [CChar](repeating: 0, count: 256)
            regerror(status, compiled, &message, message.count)
            // `deinit` still runs (every property is set) and frees it: glibc's regfree
            // is safe after a failed regcomp, which leaves nothing allocated.
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ScenarioError("the regular expression '\(source)' is invalid: \(text)")
        }
    }

    deinit {
        regfree(compiled)
        compiled.deallocate()
    }

    /// True if the expression matches `answer`, all of it: REG_STARTEND gives regexec
    /// the length, so a NUL byte (in a binary length prefix, say) does not end the text.
    func matches(_ answer: UnsafeRawBufferPointer) -> Bool {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: answer.count + 1) { text in
            if let base = answer.baseAddress { memcpy(text.baseAddress!, base, answer.count) }
            text[answer.count] = 0
            var range = regmatch_t(rm_so: 0, rm_eo: regoff_t(answer.count))
            return regexec(compiled, text.baseAddress!, 1, &range, REG_STARTEND) == 0
        }
    }

    /// Equal when written the same.
    public static func == (a: AnswerPattern, b: AnswerPattern) -> Bool { a.source == b.source }
}
