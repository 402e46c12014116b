import ArgumentParser
import ConduitLoad

/// `--segment I/N`; a usage error that says what it takes otherwise.
func parseSegment(_ text: String) throws -> LoadSegment {
    guard let segment = LoadSegment(text) else {
        throw ValidationError("--segment takes I/N with 0 <= I < N (the shares of 4 hosts are 0/4, 1/4, 2/4 and 3/4), not '\(text)'")
    }
    return segment
}

/// `--start-at`: Unix seconds or RFC 3339; a usage error otherwise.
func parseStartAt(_ text: String) throws -> Double {
    guard let instant = WallClock.parse(text) else {
        throw ValidationError("--start-at takes Unix seconds (1795000000) or RFC 3339 (2026-11-26T13:00:00Z), not '\(text)'")
    }
    return instant
}
