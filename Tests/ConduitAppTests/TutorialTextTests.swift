import ConduitTestSupport
import Conduit
import ConduitApp
import ConduitMessage
import Testing

/// The answers of the tutorial's current server (realpython/materials,
/// python-sockets-tutorial/libserver.py: `f"No match for '{query}'."` and
/// `f"Error: invalid action '{action}'."`), byte for byte. Each expected text was
/// produced by running those expressions in Python 3 on `json.loads` of the request,
/// so a missing or non-string value reads as Python's `str()` of it (`None`, `True`,
/// `1000.0`, `[1, 'a']`).
@Suite("The tutorial server's answer texts")
struct TutorialTextTests {
    static let cases: [(request: String, answer: String)] = [
        (#"{"action": "search", "value": "xyz"}"#, #"No match for 'xyz'."#),
        (#"{"action": "nope", "value": "x"}"#, #"Error: invalid action 'nope'."#),
        (#"{"value": "x"}"#, #"Error: invalid action 'None'."#),
        (#"{"action": null}"#, #"Error: invalid action 'None'."#),
        (#"{"action": "search"}"#, #"No match for 'None'."#),
        (#"{"action": true, "value": 1}"#, #"Error: invalid action 'True'."#),
        (#"{"action": false}"#, #"Error: invalid action 'False'."#),
        (#"{"action": 5}"#, #"Error: invalid action '5'."#),
        (#"{"action": -0}"#, #"Error: invalid action '0'."#),
        (#"{"action": 12345678901234567890}"#, #"Error: invalid action '12345678901234567890'."#),
        (#"{"action": 1.50}"#, #"Error: invalid action '1.5'."#),
        (#"{"action": 1e3}"#, #"Error: invalid action '1000.0'."#),
        (#"{"action": -1.0e+2}"#, #"Error: invalid action '-100.0'."#),
        (#"{"action": 1E400}"#, #"Error: invalid action 'inf'."#),
        (#"{"action": "search", "value": 2.5e-7}"#, #"No match for '2.5e-07'."#),
        (#"{"action": "search", "value": 1e16}"#, #"No match for '1e+16'."#),
        (#"{"action": [1, "a", null, true, {"k": "it's"}]}"#, #"Error: invalid action '[1, 'a', None, True, {'k': "it's"}]'."#),
        (#"{"action": {"a": "b\"c", "d": "e'f\"g"}}"#, #"Error: invalid action '{'a': 'b"c', 'd': 'e\'f"g'}'."#),
        (#"{"action": {"a": 1, "b": 2, "a": 3}}"#, #"Error: invalid action '{'a': 3, 'b': 2}'."#),
        // Keys Swift's String calls equal (canonically equivalent) but Python's dict keeps
        // apart: é precomposed and decomposed, the Kelvin sign and K.
        (#"{"action": {"\u00e9": 1, "e\u0301": 2, "\u212a": 3, "K": 4}}"#,
         "Error: invalid action '{'\u{E9}': 1, 'e\u{301}': 2, '\u{212A}': 3, 'K': 4}'."),
        (#"{"action": ["\n\t\u0001\u007f\u00e9\u00a0\u200b\ud83d\ude00\\"]}"#, #"Error: invalid action '['\n\t\x01\x7fé\xa0\u200b😀\\']'."#),
        (#"{"action": []}"#, #"Error: invalid action '[]'."#),
        (#"{"action": {}}"#, #"Error: invalid action '{}'."#),
    ]

    @Test func answersMatchTheTutorialServerByteForByte() throws {
        try withAppServer(backend: .shim) { port in
            let client = try BlockingClient(port: port)
            for (request, _) in Self.cases {
                var message: [UInt8] = []
                try Array(request.utf8).withUnsafeBytes {
                    try MessageEncoder.append(contentType: .json, contentEncoding: "utf-8", content: $0, to: &message)
                }
                client.send(message)
            }
            client.shutdownWrite()
            let responses = try decodeResponses(client.receiveUntilClosed().bytes)
            #expect(responses.count == Self.cases.count)
            for ((request, answer), response) in zip(Self.cases, responses) {
                #expect(response == .result(.string(answer)), "\(request)")
            }
        }
    }

    /// The no-match answer on the wire, as the tutorial's server encodes it.
    @Test(arguments: IOBackend.allCases)
    func noMatchVectorOverTheWire(backend: IOBackend) throws {
        try requireUsable(backend)
        let expected = Vectors.bytes(
            #"\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 33}{"result": "No match for 'xyz'."}"#)
        #expect(expected.count == 138)
        try withAppServer(backend: backend) { port in
            let client = try BlockingClient(port: port)
            client.send(AppRequest(action: "search", value: "xyz").encoded())
            #expect(client.receive(count: expected.count) == expected)
        }
    }
}

extension TutorialTextTests {
    /// A value's text is shown up to 1 MiB, and not made at all beyond: a 16 MiB list
    /// held its loop for seconds while its text was built one `Character` at a time.
    @Test func longValuesAreShownUpToALimit() throws {
        let fits = "[\"" + String(repeating: "a", count: 1_000_000) + "\"]"
        let over = "[\"" + String(repeating: "'", count: 2_000_000) + "\"]"
        let cases = [
            (#"{"action": "search", "value": "# + fits + "}", "No match for '['" + String(repeating: "a", count: 1_000_000) + "']'."),
            (#"{"action": "search", "value": "# + over + "}", "No match for a value whose text is over 1048576 bytes."),
            (#"{"action": "# + over + "}", "Error: invalid action whose text is over 1048576 bytes."),
        ]
        try withAppServer(backend: .shim, limits: MessageLimits(maxContentLength: 4 << 20)) { port in
            let client = try BlockingClient(port: port)
            for (request, _) in cases {
                var message: [UInt8] = []
                try Array(request.utf8).withUnsafeBytes {
                    try MessageEncoder.append(contentType: .json, contentEncoding: "utf-8", content: $0, to: &message)
                }
                client.send(message)
            }
            client.shutdownWrite()
            let responses = try decodeResponses(client.receiveUntilClosed().bytes)
            #expect(responses.count == cases.count)
            for ((_, answer), response) in zip(cases, responses) {
                #expect(response == .result(.string(answer)), "\(String(describing: response).prefix(120))")
            }
        }
    }
}
