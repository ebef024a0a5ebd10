package io.vetcd.http2;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.http.HttpConnection;

/**
 * Batches the socket flushes of an HTTP/2 connection. Vert.x flushes after every frame it writes:
 * on the server after each response (an answer coming back from the apply verticle, each watch
 * event batch), on the client twice per call (the request's headers, then its message). Under load
 * each cost a write system call; here the flushes requested during one event-loop task (or one read
 * of the socket) are joined into one, done when it ends (or every {@value #FLUSHES_PER_WRITE_MAX}
 * flushes), so the frames of many streams of a connection leave in one write.
 */
public final class FlushBatching {
  static final int FLUSHES_PER_WRITE_MAX = 64;
  private static final String NAME = "vetcd-flush-batching";

  private FlushBatching() {}

  /**
   * For {@code HttpServer.connectionHandler} and {@code HttpClientBuilder.withConnectHandler}: HTTP/2
   * connections only (gRPC), HTTP/1.x is left as is.
   */
  public static void install(HttpConnection connection) {
    io.netty.channel.ChannelPipeline pipeline = Http2Pipeline.of(connection);
    if (pipeline == null || pipeline.get(NAME) != null) {
      return;
    }
    ChannelHandlerContext h2 = pipeline.context(Http2ConnectionHandler.class);
    // Just below the HTTP/2 handler: TLS (when used) then encrypts the joined writes at once too.
    pipeline.addBefore(h2.name(), NAME, new FlushConsolidationHandler(FLUSHES_PER_WRITE_MAX, true));
  }
}
