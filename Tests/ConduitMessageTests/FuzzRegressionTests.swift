@_spi(Reference) import ConduitMessage
import Foundation
import Testing

/// The decoder fuzz target's inputs: its seeds (Fuzz/seeds/decoder), the corpus kept in
/// the repository (Fuzz/corpus/decoder) and every input it ever found a problem with
/// (Fuzz/regressions/decoder), checked with the fuzz target's invariants: the same
/// messages and the same error whether the bytes arrive at once or split anywhere.
@Suite("Fuzz corpus regressions")
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    /// The files in `Fuzz/<folder>/decoder`, as paths relative to `Fuzz/`.
    static func inputs(_ folders: [String] = ["seeds", "regressions"]) -> [String] {
        folders.flatMap { folder -> [String] in
            let names = (try? FileManager.default.contentsOfDirectory(
                atPath: root.appendingPathComponent(folder).appendingPathComponent("decoder").path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.map { "\(folder)/decoder/\($0)" }.sorted()
        }
    }

    @Test func corpusIsThere() {
        #expect(Self.inputs().count >= 8)
        #expect(Self.inputs(["corpus"]).count >= 50, "the minimized corpus of Fuzz/corpus/decoder")
    }

    /// The fuzz target's first invariant: the one-pass header decoder and the reference
    /// agree on the input taken as a header, result or error. Cheap, so the whole corpus.
    /// Every input in one test, so a run prints one line for the corpus, not one per file.
    @Test func bothHeaderDecodersAgreeOnEveryInput() throws {
        for path in Self.inputs(["seeds", "regressions", "corpus"]) {
            do { try bothHeaderDecodersAgree(path: path) } catch { Issue.record("\(path): \(error)") }
        }
    }

    func bothHeaderDecodersAgree(path: String) throws {
        let bytes = Array(try Data(contentsOf: Self.root.appendingPathComponent(path)))
        let limits = MessageLimits(maxHeaderBytes: 4096, maxContentLength: 1 << 16)
        let (fast, reference) = bytes.withUnsafeBytes { raw in
            (
                Result { () throws(MessageError) in try JSONHeader.decode(raw, limits: limits) },
                Result { () throws(MessageError) in try JSONHeader.referenceDecode(raw, limits: limits) }
            )
        }
        #expect(fast == reference, "\(path)")
    }

    /// Every split of every seed and regression (quadratic, so not the whole corpus).
    @Test(arguments: inputs())
    func splitAnywhereGivesTheSameResult(path: String) throws {
        let bytes = Array(try Data(contentsOf: Self.root.appendingPathComponent(path)))
        let limits = MessageLimits(maxHeaderBytes: 4096, maxContentLength: 1 << 16)
        let whole = outcome(bytes, splitAt: nil, limits: limits)
        for split in 0...bytes.count {
            let pieces = outcome(bytes, splitAt: split, limits: limits)
            #expect(pieces.messages == whole.messages, "\(path) split at \(split)")
            #expect(pieces.error == whole.error, "\(path) split at \(split)")
        }
    }

    func outcome(_ bytes: [UInt8], splitAt split: Int?, limits: MessageLimits) -> (messages: [OwnedMessage], error: MessageError?) {
        var decoder = MessageDecoder(limits: limits)
        var messages: [OwnedMessage] = []
        var pending = split.map { Array(bytes[..<$0]) } ?? bytes
        let rest = split.map { Array(bytes[$0...]) } ?? []
        do {
            for next in [rest, []] {
                let (decoded, consumed) = try decodeAll(pending, decoder: &decoder)
                messages += decoded
                pending.removeFirst(consumed)
                pending += next
            }
            return (messages, nil)
        } catch {
            return (messages, error as? MessageError)
        }
    }
}
