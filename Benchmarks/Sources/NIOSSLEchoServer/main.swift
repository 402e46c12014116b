import Glibc
import NIOCore
import NIOPosix
import NIOSSL

// A SwiftNIO + NIOSSL (BoringSSL) TLS echo server, written the way NIO's examples are,
// as the peer for `conduit multiconn-server --tls-cert ... --tls-key ...` in
// Benchmarks/compare_tls.sh.
// usage: NIOSSLEchoServer PORT CERT KEY; prints "Listening on 127.0.0.1:PORT".

final class EchoHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 4, let port = Int(arguments[1]) else {
    _ = "usage: NIOSSLEchoServer PORT CERT KEY\n".withCString { write(2, $0, strlen($0)) }
    exit(64)
}
let configuration = TLSConfiguration.makeServerConfiguration(
    certificateChain: try NIOSSLCertificate.fromPEMFile(arguments[2]).map { .certificate($0) },
    privateKey: .privateKey(try NIOSSLPrivateKey(file: arguments[3], format: .pem)))
let sslContext = try NIOSSLContext(configuration: configuration)
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 4096)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelOption(.maxMessagesPerRead, value: 16)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
            try channel.pipeline.syncOperations.addHandler(EchoHandler())
        }
    }
let channel = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
// Unbuffered, so a parent reading the pipe sees the line at once.
let line = "Listening on 127.0.0.1:\(channel.localAddress!.port!)\n"
_ = line.withCString { write(1, $0, strlen($0)) }
try channel.closeFuture.wait()
