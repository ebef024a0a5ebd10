package io.vetcd.peer;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;

/**
 * The peer wire format: every frame is a 4-byte big-endian length, then that many bytes, the first
 * of which is the frame kind.
 *
 * <pre>
 * HELLO     cluster id (8) | sender member id (8) | receiver member id (8)   dialer → acceptor, first frame
 * HELLO_OK  cluster id (8) | acceptor member id (8)                          acceptor → dialer
 * REJECT    UTF-8 reason                                                    acceptor → dialer, then close
 * RAFT      {@link io.vetcd.raft.MessageCodec} bytes                         dialer → acceptor
 * REQUEST   request id (8) | payload                                        dialer → acceptor
 * RESPONSE  request id (8) | status (4: 0 ok, else a gRPC code) | payload or UTF-8 message
 * </pre>
 */
final class Frames {
  static final byte HELLO = 1;
  static final byte HELLO_OK = 2;
  static final byte REJECT = 3;
  static final byte RAFT = 4;
  static final byte REQUEST = 5;
  static final byte RESPONSE = 6;

  private Frames() {}

  static Buffer frame(byte kind, Buffer body) {
    Buffer b = Buffer.buffer(5 + body.length());
    b.appendInt(1 + body.length()).appendByte(kind).appendBuffer(body);
    return b;
  }

  static Buffer frame(byte kind, byte[] body) {
    Buffer b = Buffer.buffer(5 + body.length);
    b.appendInt(1 + body.length).appendByte(kind).appendBytes(body);
    return b;
  }

  /**
   * A parser that hands each whole frame (kind byte first, length stripped) to {@code handler}, and
   * calls {@code onTooLarge} (once) for a frame above {@code maxBytes}.
   */
  static RecordParser parser(int maxBytes, Handler<Buffer> handler, Runnable onTooLarge) {
    RecordParser parser = RecordParser.newFixed(4);
    parser.handler(new Handler<>() {
      boolean readingLength = true;
      boolean broken;

      @Override
      public void handle(Buffer b) {
        if (broken) {
          return;
        }
        if (readingLength) {
          int length = b.getInt(0);
          if (length < 1 || length > maxBytes) {
            broken = true;
            onTooLarge.run();
            return;
          }
          readingLength = false;
          parser.fixedSizeMode(length);
        } else {
          readingLength = true;
          parser.fixedSizeMode(4);
          handler.handle(b);
        }
      }
    });
    return parser;
  }
}
