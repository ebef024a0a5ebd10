package io.vetcd.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
  @Test
  void everyFieldSurvivesARoundTrip() {
    Random random = new Random(7);
    for (int n = 0; n < 500; n++) {
      Message m = randomMessage(random);
      byte[] encoded = MessageCodec.encode(m);
      assertEquals(MessageCodec.encodedSize(m), encoded.length);
      assertSameMessage(m, MessageCodec.decode(encoded));
    }
  }

  @Test
  void readsTheFormatOfMembersThatWroteItWithDataStreams() throws IOException {
    // A member of the previous build wrote the same layout through DataOutputStream: big-endian
    // longs and ints, booleans as one byte. A mixed-version cluster must still understand it.
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeByte(1);
    out.writeByte(MessageType.APPEND.ordinal());
    for (long field : new long[] {1, 2, 5, 4, 10, 9}) {
      out.writeLong(field); // from, to, term, logTerm, index, commit
    }
    out.writeBoolean(true);
    out.writeLong(7);
    out.writeInt(2);
    out.write(new byte[] {42, 43});
    out.writeInt(1);
    out.writeLong(5);
    out.writeLong(11);
    out.writeByte(EntryType.NORMAL.ordinal());
    out.writeInt(3);
    out.write(new byte[] {1, 2, 3});
    out.writeBoolean(false);
    Message m = MessageCodec.decode(bytes.toByteArray());
    assertEquals(MessageType.APPEND, m.type());
    assertEquals(List.of(1L, 2L, 5L, 4L, 10L, 9L), List.of(m.from(), m.to(), m.term(), m.logTerm(), m.index(), m.commit()));
    assertEquals(true, m.reject());
    assertEquals(7, m.rejectHint());
    assertArrayEquals(new byte[] {42, 43}, m.context());
    assertEquals(1, m.entries().size());
    assertEquals(11, m.entries().get(0).index());
    assertArrayEquals(new byte[] {1, 2, 3}, m.entries().get(0).data());
    assertNull(m.snapshot());
    assertArrayEquals(bytes.toByteArray(), MessageCodec.encode(m), "and writes that same layout");
  }

  @Test
  void truncatedOrCorruptBytesAreRefused() {
    Message m = randomMessage(new Random(3));
    byte[] encoded = MessageCodec.encode(m);
    for (int cut = 0; cut < encoded.length; cut++) {
      byte[] truncated = Arrays.copyOf(encoded, cut);
      assertThrows(IllegalArgumentException.class, () -> MessageCodec.decode(truncated), "cut at " + cut);
    }
    byte[] badType = encoded.clone();
    badType[1] = (byte) 200;
    assertThrows(IllegalArgumentException.class, () -> MessageCodec.decode(badType));
  }

  private static Message randomMessage(Random random) {
    List<Entry> entries = new ArrayList<>();
    for (int i = random.nextInt(4); i > 0; i--) {
      entries.add(new Entry(random.nextLong(), random.nextLong(),
          EntryType.values()[random.nextInt(EntryType.values().length)], randomBytes(random, 300)));
    }
    Snapshot snapshot = random.nextBoolean() ? null : new Snapshot(random.nextLong(), random.nextLong(),
        new ConfState(List.of(random.nextLong(), 2L), random.nextBoolean() ? List.of() : List.of(9L)),
        randomBytes(random, 100));
    return new Message(MessageType.values()[random.nextInt(MessageType.values().length)], random.nextLong(),
        random.nextLong(), random.nextLong(), random.nextLong(), random.nextLong(), entries, random.nextLong(),
        random.nextBoolean(), random.nextLong(), randomBytes(random, 20), snapshot);
  }

  private static byte[] randomBytes(Random random, int maxLength) {
    byte[] b = new byte[random.nextInt(maxLength)];
    random.nextBytes(b);
    return b;
  }

  private static void assertSameMessage(Message expected, Message actual) {
    assertEquals(expected.toString(), actual.toString());
    assertEquals(expected.rejectHint(), actual.rejectHint());
    assertArrayEquals(expected.context(), actual.context());
    for (int i = 0; i < expected.entries().size(); i++) {
      Entry e = expected.entries().get(i);
      Entry a = actual.entries().get(i);
      assertEquals(List.of(e.term(), e.index()), List.of(a.term(), a.index()));
      assertEquals(e.type(), a.type());
      assertArrayEquals(e.data(), a.data());
    }
    if (expected.snapshot() == null) {
      assertNull(actual.snapshot());
    } else {
      assertEquals(expected.snapshot().index(), actual.snapshot().index());
      assertEquals(expected.snapshot().term(), actual.snapshot().term());
      assertEquals(expected.snapshot().confState(), actual.snapshot().confState());
      assertArrayEquals(expected.snapshot().data(), actual.snapshot().data());
    }
  }
}
