import Conduit
import Glibc
import Testing

@Suite("Socket addresses")
struct AddressTests {
    @Test func numericIPv4() throws {
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: 65432)
        #expect(address.description == "127.0.0.1:65432")
        #expect(address == .loopback(port: 65432))
    }

    @Test func emptyHostMeansAllInterfaces() throws {
        #expect(try SocketAddress.resolve(host: "", port: 80).description == "0.0.0.0:80")
    }

    @Test func ipv6InBrackets() throws {
        #expect(try SocketAddress.resolve(host: "::1", port: 5).description == "[::1]:5")
    }

    @Test func hostNameResolves() throws {
        let address = try SocketAddress.resolve(host: "localhost", port: 7)
        #expect(["127.0.0.1", "::1"].contains(address.host))
        #expect(address.port == 7)
    }

    @Test func badInputIsATypedError() {
        #expect(throws: AddressError.badPort(70000)) { try SocketAddress.resolve(host: "127.0.0.1", port: 70000) }
        #expect(throws: AddressError.self) { try SocketAddress.resolve(host: "no-such-host.invalid", port: 1) }
    }
}

@Suite("Unix socket addresses")
struct UnixAddressTests {
    @Test func describedByPathWithNoPort() throws {
        let address = try SocketAddress.unix(path: "/tmp/x.sock")
        #expect(address.description == "unix:/tmp/x.sock")
        #expect(address.port == 0)
        #expect(address.family == AF_UNIX)
        #expect(address.unixPath == "/tmp/x.sock")
        #expect(!address.isIP)
        #expect(SocketAddress.loopback(port: 1).unixPath == nil)
    }

    @Test func equalAndHashedByPath() throws {
        let a = try SocketAddress.unix(path: "/tmp/a.sock")
        #expect(a == (try SocketAddress.unix(path: "/tmp/a.sock")))
        #expect(a != (try SocketAddress.unix(path: "/tmp/b.sock")))
        #expect(a != .loopback(port: 0))
        let set: Set<SocketAddress> = [a, try .unix(path: "/tmp/a.sock"), try .unix(path: "/tmp/b.sock")]
        #expect(set.count == 2)
    }

    /// `sun_path` holds 108 bytes with the terminating NUL: 107 are fine, 108 are not,
    /// and the error says how long and what the limit is (never a shortened path).
    @Test func pathLongerThanSunPathIsRefused() throws {
        #expect(UnixSocketPath.maxBytes == 107)
        let longest = "/tmp/" + String(repeating: "a", count: 102)
        #expect(try SocketAddress.unix(path: longest).description == "unix:" + longest)
        let tooLong = longest + "b"
        #expect(throws: AddressError.unixPathTooLong(path: tooLong, bytes: 108, limit: 107)) {
            try SocketAddress.unix(path: tooLong)
        }
        #expect(AddressError.unixPathTooLong(path: tooLong, bytes: 108, limit: 107).description
            == "Unix socket path is 108 bytes, above the limit of 107 (sun_path): \(tooLong)")
        // Bytes of UTF-8 count, not characters: 36 dogs are 144 bytes.
        #expect(throws: AddressError.self) { try SocketAddress.unix(path: String(repeating: "🐶", count: 36)) }
    }

    @Test func emptyOrNulPathIsRefused() {
        #expect(throws: AddressError.self) { try SocketAddress.unix(path: "") }
        #expect(throws: AddressError.self) { try SocketAddress.unix(path: "/tmp/a\0b") }
    }

    @Test func unnamedDescribesItself() {
        #expect(SocketAddress.unix(.unnamed).description == "unix:(unnamed)")
        #expect(SocketAddress.unix(.unnamed).unixPath == nil)
    }
}
