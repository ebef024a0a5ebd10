package io.vetcd.watch;

import com.google.protobuf.ByteString;
import io.vetcd.mvcc.KeyOrder;

/** A key or key range as etcd encodes it: empty end = one key, end "\0" = every key from start. */
public record KeyRange(ByteString start, ByteString end) {
  private static final ByteString ALL_FROM = ByteString.copyFrom(new byte[] {0});

  public boolean contains(ByteString key) {
    if (end.isEmpty()) {
      return key.equals(start);
    }
    if (KeyOrder.INSTANCE.compare(key, start) < 0) {
      return false;
    }
    return end.equals(ALL_FROM) || KeyOrder.INSTANCE.compare(key, end) < 0;
  }
}
