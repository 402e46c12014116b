import Glibc

/// Monotonic time in nanoseconds (`CLOCK_MONOTONIC`), cheap enough for the hot path.
package enum Monotonic {
    /// Nanoseconds since an arbitrary fixed point; never goes backwards.
    @inline(__always)
    package static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }
}
