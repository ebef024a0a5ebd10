package io.vetcd.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KeyOrderTest {
  private static ByteString bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return ByteString.copyFrom(b);
  }

  @Test
  void bytesAreUnsignedAndAPrefixComesFirst() {
    assertTrue(KeyOrder.INSTANCE.compare(bytes(0x7f), bytes(0x80)) < 0, "0x80 sorts after 0x7f, as unsigned");
    assertTrue(KeyOrder.INSTANCE.compare(bytes(0xff), bytes(0x00, 0x00)) > 0);
    assertTrue(KeyOrder.INSTANCE.compare(ByteString.copyFromUtf8("foo"), ByteString.copyFromUtf8("foo1")) < 0);
    assertTrue(KeyOrder.INSTANCE.compare(ByteString.EMPTY, bytes(0)) < 0);
    assertEquals(0, KeyOrder.INSTANCE.compare(ByteString.copyFromUtf8("key"), ByteString.copyFromUtf8("key")));
  }

  @Test
  void agreesWithProtobufsOrderOnSlicesAndCopies() {
    Random random = new Random(42);
    for (int n = 0; n < 20_000; n++) {
      ByteString a = randomKey(random);
      ByteString b = random.nextInt(4) == 0 ? a.substring(0, random.nextInt(a.size() + 1)) : randomKey(random);
      int expected = Integer.signum(ByteString.unsignedLexicographicalComparator().compare(a, b));
      assertEquals(expected, Integer.signum(KeyOrder.INSTANCE.compare(a, b)), a + " vs " + b);
      assertEquals(-expected, Integer.signum(KeyOrder.INSTANCE.compare(b, a)), b + " vs " + a);
    }
  }

  private static ByteString randomKey(Random random) {
    byte[] key = new byte[1 + random.nextInt(6)];
    for (int i = 0; i < key.length; i++) {
      key[i] = (byte) (random.nextBoolean() ? random.nextInt(3) : random.nextInt(256)); // many shared prefixes
    }
    // a slice of a larger array too, as keys parsed out of a request are
    return random.nextBoolean() ? ByteString.copyFrom(key) : ByteString.copyFrom(new byte[] {9, 9}).concat(ByteString.copyFrom(key)).substring(2);
  }
}
