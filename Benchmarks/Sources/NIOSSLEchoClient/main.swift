import Glibc
import NIOCore
import NIOPosix
import NIOSSL

// A SwiftNIO + NIOSSL (BoringSSL) client for the interop check (Benchmarks/interop_niossl.sh):
// connects to HOST:PORT over TLS, trusting only CAFILE and checking the name HOST,
// sends TEXT and waits for it to come back.
// usage: NIOSSLEchoClient HOST PORT CAFILE TEXT; prints "NIOSSL client echoed: TEXT"
// and exits 0, or says what went wrong and exits 1.

// Not Sendable: made inside the channel initializer and used only on that channel's loop.
final class EchoCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let expected: Int
    let done: EventLoopPromise<String>
    private var received = ""

    init(expected: Int, done: EventLoopPromise<String>) {
        self.expected = expected
        self.done = done
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readString(length: buffer.readableBytes) ?? ""
        if received.utf8.count >= expected { done.succeed(received) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(ChannelError.eof)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        done.fail(error)
        context.close(promise: nil)
    }
}

func say(_ text: String, to descriptor: Int32) {
    _ = text.withCString { write(descriptor, $0, strlen($0)) }
}

let arguments = CommandLine.arguments
guard arguments.count == 5, let port = Int(arguments[2]) else {
    say("usage: NIOSSLEchoClient HOST PORT CAFILE TEXT\n", to: 2)
    exit(64)
}
let (host, caFile, text) = (arguments[1], arguments[3], arguments[4])
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
do {
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.trustRoots = .file(caFile)
    let sslContext = try NIOSSLContext(configuration: configuration)
    let done = group.next().makePromise(of: String.self)
    let channel = try ClientBootstrap(group: group)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    NIOSSLClientHandler(context: sslContext, serverHostname: host))
                try channel.pipeline.syncOperations.addHandler(EchoCollector(expected: text.utf8.count, done: done))
            }
        }
        .connect(host: host, port: port).wait()
    try channel.writeAndFlush(ByteBuffer(string: text)).wait()
    let echoed = try done.futureResult.wait()
    try? channel.close().wait()
    guard echoed == text else {
        say("NIOSSL client got \(echoed) for \(text)\n", to: 2)
        exit(1)
    }
    say("NIOSSL client echoed: \(echoed)\n", to: 1)
} catch {
    say("NIOSSL client: \(error)\n", to: 2)
    exit(1)
}
try? group.syncShutdownGracefully()
