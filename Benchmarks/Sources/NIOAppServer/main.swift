import Glibc
import NIOCore
import NIOPosix

// A SwiftNIO 2.101.3 server for Conduit's application protocol (PROTOCOL.md), the peer of
// `conduit app-server` in Benchmarks/compare.sh. One event loop thread, TCP_NODELAY, up to
// 16 reads per wake-up, answers flushed once per read burst (as NIOEchoServer).
//
// usage: NIOAppServer [PORT] [--codec foundation|conduit]; prints
// "Listening on 127.0.0.1:PORT". SIGTERM's default action ends it (nothing to save).
//
//   --codec foundation  (default) what most NIO users would write: a ByteToMessageDecoder
//                       for the frame, JSONDecoder/JSONEncoder (Codable) for header and
//                       content. Answers are the same data but not the same bytes as
//                       Conduit's (JSONEncoder writes `{"a":"b"}` and `text\/json`), so
//                       load it with `conduit load --compare semantic`.
//   --codec conduit     Conduit's own MessageDecoder and Router.tutorial() inside a
//                       ByteToMessageDecoder: the same codec as `conduit app-server`, so
//                       the difference is the transport. Byte-identical (--compare exact).

enum Codec: String { case foundation, conduit }

var port = 0
var codec = Codec.foundation
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    if argument == "--codec", let name = arguments.popFirst(), let chosen = Codec(rawValue: name) {
        codec = chosen
    } else if let number = Int(argument), (0...65535).contains(number) {
        port = number
    } else {
        let usage = "usage: NIOAppServer [PORT] [--codec foundation|conduit]\n"
        _ = usage.withCString { write(2, $0, strlen($0)) }
        exit(64)
    }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 4096)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelOption(.maxMessagesPerRead, value: 16)
    .childChannelInitializer { [codec] channel in
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            switch codec {
            case .foundation:
                try pipeline.addHandler(ByteToMessageHandler(FoundationFrameDecoder()))
                try pipeline.addHandler(FoundationAppHandler())
            case .conduit:
                try pipeline.addHandler(ByteToMessageHandler(ConduitCodecDecoder()))
                try pipeline.addHandler(AnswerWriter())
            }
        }
    }
let channel = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
// Unbuffered, so a parent reading the pipe sees the line at once.
let line = "Listening on 127.0.0.1:\(channel.localAddress!.port!)\n"
_ = line.withCString { write(1, $0, strlen($0)) }
try channel.closeFuture.wait()
