import NIOCore
import NIOHTTP1
import NIOPosix

/// A whole HTTP response read from the upstream.
struct UpstreamResponse {
    var head: HTTPResponseHead
    var body: ByteBuffer
}

/// A minimal HTTP/1.1 client for the proxy: one connection per request (`Connection: close`),
/// request and response bodies held in memory (test images are small).
struct UpstreamClient {
    let host: String
    let port: Int

    func send(_ head: HTTPRequestHead, body: ByteBuffer) async throws -> UpstreamResponse {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: UpstreamResponse.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                }
            }
            .connect(host: host, port: port)
            .get()
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if body.readableBytes > 0 {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return try await promise.futureResult.get()
    }
}

/// Gathers the parts of one response and completes `promise` at its end (or on failure).
private final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<UpstreamResponse>
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private var done = false

    init(promise: EventLoopPromise<UpstreamResponse>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            if let head, !done {
                done = true
                promise.succeed(UpstreamResponse(head: head, body: body))
            }
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    private func fail(_ error: any Error) {
        guard !done else { return }
        done = true
        promise.fail(error)
    }
}
