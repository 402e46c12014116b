import Conduit
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
