import Glibc
import NIOCore
import NIOPosix

// A SwiftNIO echo server written the way NIO's own example is, as the peer for
// `conduit multiconn-server` in scripts/compare_echo_servers.py.
// usage: NIOEchoServer PORT [THREADS]; prints "Listening on 127.0.0.1:PORT".

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
let port = arguments.count > 1 ? Int(arguments[1]) ?? 0 : 0
let threads = arguments.count > 2 ? Int(arguments[2]) ?? 1 : 1
let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 4096)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelOption(.maxMessagesPerRead, value: 16)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
    }
let channel = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
// Unbuffered, so a parent reading the pipe sees the line at once.
let line = "Listening on 127.0.0.1:\(channel.localAddress!.port!)\n"
_ = line.withCString { write(1, $0, strlen($0)) }
try channel.closeFuture.wait()
