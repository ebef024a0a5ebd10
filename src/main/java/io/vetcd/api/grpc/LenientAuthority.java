package io.vetcd.api.grpc;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2FrameListenerDecorator;
import io.netty.handler.codec.http2.Http2Headers;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.HostAndPort;
import io.vetcd.http2.Http2Pipeline;

/**
 * Lets a request whose HTTP/2 {@code :authority} is not a plain {@code host:port} through, as etcd's
 * Go server does. etcdctl's {@code --cluster} commands ({@code endpoint status --cluster}, {@code
 * endpoint hashkv --cluster}, {@code defrag --cluster}) dial each member by its client URL, so grpc-go
 * sends {@code :authority: http://127.0.0.1:2379}; Vert.x would reset such a stream as malformed
 * (PROTOCOL_ERROR). The scheme is dropped, and an authority that still does not parse is removed.
 */
public final class LenientAuthority {
  private LenientAuthority() {}

  /** For {@code HttpServer.connectionHandler}: wraps the HTTP/2 frame listener of the connection. */
  public static void install(HttpConnection connection) {
    io.netty.channel.ChannelPipeline pipeline = Http2Pipeline.of(connection);
    if (pipeline == null) {
      return; // HTTP/1.x
    }
    Http2ConnectionHandler h2 = pipeline.get(Http2ConnectionHandler.class);
    Http2FrameListener current = h2.decoder().frameListener();
    if (current == null || current instanceof Fixer) {
      return;
    }
    h2.decoder().frameListener(new Fixer(current));
  }

  /** The authority a server can use: without a scheme or a path; null when nothing usable is left. */
  static CharSequence fix(CharSequence authority) {
    String s = authority.toString();
    int scheme = s.indexOf("://");
    if (scheme >= 0) {
      s = s.substring(scheme + 3);
    }
    int slash = s.indexOf('/');
    if (slash >= 0) {
      s = s.substring(0, slash);
    }
    return s.isEmpty() || HostAndPort.parseAuthority(s, -1) == null ? null : s;
  }

  private static void fixHeaders(Http2Headers headers) {
    CharSequence authority = headers.authority();
    if (authority == null || HostAndPort.parseAuthority(authority.toString(), -1) != null) {
      return;
    }
    CharSequence fixed = fix(authority);
    if (fixed == null) {
      headers.remove(Http2Headers.PseudoHeaderName.AUTHORITY.value());
    } else {
      headers.authority(fixed);
    }
  }

  private static final class Fixer extends Http2FrameListenerDecorator {
    Fixer(Http2FrameListener listener) {
      super(listener);
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
        boolean endStream) throws Http2Exception {
      fixHeaders(headers);
      super.onHeadersRead(ctx, streamId, headers, padding, endStream);
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
        short weight, boolean exclusive, int padding, boolean endStream) throws Http2Exception {
      fixHeaders(headers);
      super.onHeadersRead(ctx, streamId, headers, streamDependency, weight, exclusive, padding, endStream);
    }
  }
}
