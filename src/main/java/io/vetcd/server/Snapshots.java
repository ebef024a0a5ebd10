package io.vetcd.server;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vetcd.mvcc.MvccStore;
import io.vetcd.peer.PeerRequestException;
import io.vetcd.peer.PeerTransport;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Store snapshots on disk ({@code member/snap/<index>.snapdb}), what a member that lags behind the
 * leader's compacted log receives: written by the apply verticle from the store (an export as of an
 * applied index), served in chunks of {@value #CHUNK_BYTES} bytes over the peer transport, and
 * fetched by the lagging member into a temporary file (bounded memory on both sides) before the
 * store is replaced from it.
 *
 * <p>The raft SNAPSHOT message carries only metadata: index, term, membership, and in its data the
 * source member, the snapshot file's index and its size ({@link #describe}).
 */
public final class Snapshots {
  private static final Logger log = LoggerFactory.getLogger(Snapshots.class);
  public static final int CHUNK_BYTES = 1 << 20;
  /** First byte of a peer request asking for a chunk: index (8) | offset (8). */
  public static final byte CHUNK_REQUEST = 0x20;
  private static final String SUFFIX = ".snapdb";
  private static final String BACKUP_PREFIX = "backup-";
  private static final int KEEP = 2;
  private static final long KEEP_MILLIS = 120_000;
  private static final long CHUNK_TIMEOUT_MILLIS = 10_000;
  private static final int FETCH_ATTEMPTS = 30;

  /** A snapshot file: the store as of {@code index} (of {@code term}), with the membership then. */
  public record Info(long index, long term, List<Long> voters, List<Long> learners, long size) {}

  private final Path dir;
  private volatile Info latest;

  public Snapshots(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir,
        "{*" + SUFFIX + ".tmp,incoming.tmp," + BACKUP_PREFIX + "*}")) {
      for (Path f : files) {
        Files.deleteIfExists(f);
      }
    }
  }

  /** A new file for a backup being streamed to a client (deleted once sent, or at the next start). */
  public Path newBackupFile() {
    return dir.resolve(BACKUP_PREFIX + System.nanoTime() + ".db.tmp");
  }

  /** The last snapshot written by this process, or null. */
  public Info latest() {
    return latest;
  }

  Path file(long index) {
    return dir.resolve(String.format("%016x", index) + SUFFIX);
  }

  /** Worker thread, no store write meanwhile: exports the store (committed at {@code index}). */
  public Info write(MvccStore store, long index, long term, List<Long> voters, List<Long> learners)
      throws IOException {
    Path tmp = dir.resolve(String.format("%016x", index) + SUFFIX + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING); OutputStream out = java.nio.channels.Channels.newOutputStream(ch)) {
      store.exportTo(out);
      ch.force(true);
    }
    Files.move(tmp, file(index), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true); // the rename is durable before the WAL may drop the log this file replaces
    }
    Info info = new Info(index, term, List.copyOf(voters), List.copyOf(learners), Files.size(file(index)));
    latest = info;
    purge();
    log.info("wrote store snapshot at index {} ({} bytes)", index, info.size());
    return info;
  }

  /**
   * Keeps a fetched leader snapshot (already fsynced) as this member's own snapshot file at the
   * index its store now holds: after the WAL drops the log before it, a store rebuilt after a crash
   * starts from this file.
   */
  public void adopt(Path fetched, long index, long term, List<Long> voters, List<Long> learners) throws IOException {
    Files.move(fetched, file(index), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
    latest = new Info(index, term, List.copyOf(voters), List.copyOf(learners), Files.size(file(index)));
    purge();
  }

  /** The snapshot files on disk, newest (highest index) first. */
  public List<Path> newestFirst() throws IOException {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> found = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      found.forEach(files::add);
    }
    files.sort(java.util.Comparator.reverseOrder());
    return files;
  }

  /** The raft index a snapshot file holds the store at, from its name. */
  public static long indexOf(Path snapshotFile) {
    String name = snapshotFile.getFileName().toString();
    return Long.parseUnsignedLong(name.substring(0, name.length() - SUFFIX.length()), 16);
  }

  /** Deletes old snapshot files: keeps the newest few and any written in the last two minutes. */
  private void purge() throws IOException {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> found = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      found.forEach(files::add);
    }
    files.sort(null);
    long now = System.currentTimeMillis();
    for (int i = 0; i < files.size() - KEEP; i++) {
      Path f = files.get(i);
      if (now - Files.getLastModifiedTime(f).toMillis() > KEEP_MILLIS) {
        Files.deleteIfExists(f);
      }
    }
  }

  /** What the raft SNAPSHOT message carries in its data. */
  public static byte[] describe(long sourceMember, Info info) {
    return ByteBuffer.allocate(24).putLong(sourceMember).putLong(info.index()).putLong(info.size()).array();
  }

  /** Worker thread: a chunk of a snapshot file, for a peer request's payload (after its kind byte). */
  public Buffer chunk(Buffer request) throws IOException {
    long index = request.getLong(1);
    long offset = request.getLong(9);
    try (RandomAccessFile f = new RandomAccessFile(file(index).toFile(), "r")) {
      long n = Math.max(0, Math.min(CHUNK_BYTES, f.length() - offset));
      byte[] b = new byte[(int) n];
      f.seek(offset);
      f.readFully(b);
      return Buffer.buffer(b);
    } catch (java.io.FileNotFoundException | NoSuchFileException e) {
      throw new PeerRequestException(5, "snapshot " + index + " not found");
    }
  }

  /**
   * Fetches the snapshot a SNAPSHOT message describes into a temporary file, chunk by chunk, retrying
   * lost chunks; fails after repeated failures.
   */
  public Future<Path> fetch(Vertx vertx, PeerTransport transport, byte[] description) {
    ByteBuffer d = ByteBuffer.wrap(description);
    long source = d.getLong();
    long index = d.getLong();
    long size = d.getLong();
    Path target = dir.resolve("incoming.tmp");
    Promise<Path> done = Promise.promise();
    vertx.executeBlocking(() -> {
      Files.deleteIfExists(target);
      Files.createFile(target);
      return null;
    }, false).onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
      } else {
        log.info("receiving store snapshot at index {} ({} bytes) from {}", index, size, Long.toHexString(source));
        nextChunk(vertx, transport, source, index, size, 0, 0, target, done);
      }
    });
    return done.future();
  }

  private void nextChunk(Vertx vertx, PeerTransport transport, long source, long index, long size, long offset,
      int failures, Path target, Promise<Path> done) {
    if (offset >= size) {
      vertx.executeBlocking(() -> {
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.WRITE)) {
          ch.force(true);
        }
        return target;
      }, false).onComplete(done);
      return;
    }
    Buffer request = Buffer.buffer(17).appendByte(CHUNK_REQUEST).appendLong(index).appendLong(offset);
    transport.request(source, request, CHUNK_TIMEOUT_MILLIS).onComplete(ar -> {
      if (ar.failed() || ar.result().length() == 0) {
        String why = ar.failed() ? String.valueOf(ar.cause().getMessage()) : "empty chunk";
        if (failures + 1 >= FETCH_ATTEMPTS) {
          done.fail(new IOException("cannot fetch snapshot " + index + " from " + Long.toHexString(source) + ": " + why));
          return;
        }
        log.warn("snapshot chunk at {} from {}: {}; retrying", offset, Long.toHexString(source), why);
        vertx.setTimer(500, t -> nextChunk(vertx, transport, source, index, size, offset, failures + 1, target, done));
        return;
      }
      Buffer chunk = ar.result();
      vertx.executeBlocking(() -> {
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.WRITE)) {
          ch.write(ByteBuffer.wrap(chunk.getBytes()), offset);
        }
        return null;
      }, false).onComplete(w -> {
        if (w.failed()) {
          done.fail(w.cause());
        } else {
          nextChunk(vertx, transport, source, index, size, offset + chunk.length(), 0, target, done);
        }
      });
    });
  }
}
