package io.vetcd.client;

import com.google.protobuf.ByteString;

/** Key helpers: UTF-8 conversion and etcd's prefix range end. */
public final class Keys {
  private Keys() {}

  public static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  /** The range end that makes {@code [key, end)} every key with this prefix; "\0" for the empty prefix. */
  public static ByteString prefixEnd(ByteString prefix) {
    byte[] b = prefix.toByteArray();
    for (int i = b.length - 1; i >= 0; i--) {
      if (b[i] != (byte) 0xff) {
        byte[] end = java.util.Arrays.copyOf(b, i + 1);
        end[i]++;
        return ByteString.copyFrom(end);
      }
    }
    return ByteString.copyFrom(new byte[] {0});
  }
}
