package io.vetcd.mvcc.bolt;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * etcd's snapshot integrity check: a snapshot received from a member is the database file followed
 * by the sha256 of its bytes. A bbolt file is a whole number of pages (a multiple of 512 bytes), so
 * a file whose size is 32 more than a multiple of 512 carries the trailer.
 */
public final class Sha256Trailer {
  public static final int BYTES = 32;

  private Sha256Trailer() {}

  public static boolean present(long fileSizeBytes) {
    return fileSizeBytes % 512 == BYTES;
  }

  /** sha256 of the first {@code length} bytes of {@code file}. */
  public static byte[] digest(Path file, long length) throws IOException {
    MessageDigest sha = sha256();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      long left = length;
      while (left > 0) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw new IOException("file ended before " + length + " bytes: " + file);
        }
        sha.update(buf, 0, n);
        left -= n;
      }
    }
    return sha.digest();
  }

  /** Checks the trailer of a snapshot file that has one (see {@link #present}); etcd's message on a mismatch. */
  public static void verify(Path file) throws IOException {
    long size = Files.size(file);
    if (!present(size)) {
      throw new IOException("snapshot missing hash but --skip-hash-check=false");
    }
    byte[] expected = new byte[BYTES];
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ch.position(size - BYTES);
      Channels.newInputStream(ch).readNBytes(expected, 0, BYTES);
    }
    byte[] actual = digest(file, size - BYTES);
    if (!MessageDigest.isEqual(expected, actual)) {
      throw new IOException("expected sha256 " + HexFormat.of().formatHex(expected) + ", got "
          + HexFormat.of().formatHex(actual));
    }
  }

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
