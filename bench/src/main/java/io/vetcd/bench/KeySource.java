package io.vetcd.bench;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Keys of {@code --key-size} bytes drawn from {@code --key-space-size} distinct ones: the key index
 * written in decimal, zero padded (with 8 bytes, up to 10^8 distinct keys), optionally after a prefix.
 */
final class KeySource {
  private final ByteString prefix;
  private final int keySizeBytes;
  private final long keySpaceSize;
  private final boolean sequential;

  KeySource(String prefix, int keySizeBytes, long keySpaceSize, boolean sequential) {
    this.prefix = ByteString.copyFromUtf8(prefix);
    this.keySizeBytes = keySizeBytes;
    this.keySpaceSize = keySpaceSize;
    this.sequential = sequential;
  }

  KeySource(BenchOptions o) {
    this("", o.keySizeBytes, o.keySpaceSize, o.sequentialKeys);
  }

  /** The index of the key for operation {@code sequence}: in turn, or at random. */
  long indexFor(long sequence) {
    return sequential ? sequence % keySpaceSize : ThreadLocalRandom.current().nextLong(keySpaceSize);
  }

  ByteString keyFor(long sequence) {
    return key(indexFor(sequence));
  }

  ByteString key(long index) {
    byte[] digits = Long.toString(index).getBytes(StandardCharsets.US_ASCII);
    byte[] key = new byte[keySizeBytes];
    Arrays.fill(key, (byte) '0');
    int n = Math.min(digits.length, keySizeBytes);
    System.arraycopy(digits, digits.length - n, key, keySizeBytes - n, n);
    return prefix.concat(ByteString.copyFrom(key));
  }

  /** A value of {@code sizeBytes} printable bytes, the same for every request of a run. */
  static ByteString value(int sizeBytes) {
    byte[] v = new byte[sizeBytes];
    Random random = new Random(sizeBytes);
    for (int i = 0; i < sizeBytes; i++) v[i] = (byte) ('a' + random.nextInt(26));
    return ByteString.copyFrom(v);
  }
}
