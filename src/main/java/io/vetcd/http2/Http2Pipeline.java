package io.vetcd.http2;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.vertx.core.http.HttpConnection;

/** The Netty side of a Vert.x connection (server or client), for the handlers vetcd adds to HTTP/2 (gRPC) ones. */
public final class Http2Pipeline {
  private Http2Pipeline() {}

  /** The connection's pipeline when it speaks HTTP/2; null for HTTP/1.x or a connection without a channel. */
  public static ChannelPipeline of(HttpConnection connection) {
    if (!(connection instanceof io.vertx.core.net.impl.ConnectionBase base)) {
      return null;
    }
    ChannelHandlerContext ctx = base.channelHandlerContext();
    if (ctx == null || ctx.pipeline().get(Http2ConnectionHandler.class) == null) {
      return null;
    }
    return ctx.pipeline();
  }
}
