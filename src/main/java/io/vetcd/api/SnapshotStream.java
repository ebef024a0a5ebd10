package io.vetcd.api;

import com.google.protobuf.ByteString;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.Commands;
import io.vetcd.errors.EtcdException;
import io.vetcd.pb.SnapshotResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maintenance.Snapshot, for the gRPC frontend and the gateway: asks the apply verticle for a backup
 * of the store (a bbolt file in etcd's layout, written on a worker once the writes applied so far
 * are committed), then sends it in chunks of {@value #CHUNK_BYTES} bytes with the bytes still to
 * come in {@code remaining_bytes}, and last the sha256 of the file, as etcd does. The file is read
 * asynchronously, one chunk at a time, and only while the client keeps up, so memory stays bounded;
 * it is deleted at the end, also when the client goes away.
 */
public final class SnapshotStream {
  private static final Logger log = LoggerFactory.getLogger(SnapshotStream.class);
  public static final int CHUNK_BYTES = 64 * 1024;
  /** Writing the backup pauses the apply for its duration; a big store takes a while. */
  private static final long BACKUP_TIMEOUT_MILLIS = 30 * 60_000;

  /** Where the chunks go. */
  public interface Sink {
    void write(SnapshotResponse chunk);

    boolean writeQueueFull();

    void drainHandler(Runnable handler);

    void end();

    void fail(EtcdException e);
  }

  private final Vertx vertx;
  private final Sink sink;
  private Commands.BackupWritten backup;
  private AsyncFile file;
  private long position;
  private boolean canceled;
  private boolean finished;

  private SnapshotStream(Vertx vertx, Sink sink) {
    this.vertx = vertx;
    this.sink = sink;
  }

  /** Starts a snapshot stream; the returned action cancels it (the client went away). */
  public static Runnable start(Vertx vertx, Sink sink) {
    SnapshotStream stream = new SnapshotStream(vertx, sink);
    stream.begin();
    return stream::cancel;
  }

  private void begin() {
    vertx.eventBus().<Commands.BackupWritten>request(Addresses.APPLY_BACKUP, new Commands.Backup(),
        new DeliveryOptions().setSendTimeout(BACKUP_TIMEOUT_MILLIS)).onComplete(ar -> {
          if (ar.failed()) {
            finish(BusClient.toEtcd(ar.cause()));
            return;
          }
          backup = ar.result().body();
          if (canceled) {
            cleanUp();
            return;
          }
          vertx.fileSystem().open(backup.file(), new OpenOptions().setRead(true).setWrite(false).setCreate(false))
              .onComplete(opened -> {
                if (opened.failed()) {
                  finish(BusClient.toEtcd(opened.cause()));
                  return;
                }
                file = opened.result();
                if (canceled) {
                  cleanUp();
                } else {
                  next();
                }
              });
        });
  }

  private void next() {
    if (canceled || finished) {
      return;
    }
    if (position >= backup.sizeBytes()) {
      sink.write(SnapshotResponse.newBuilder().setRemainingBytes(0).setBlob(ByteString.copyFrom(backup.sha256())).build());
      finish(null);
      return;
    }
    int length = (int) Math.min(CHUNK_BYTES, backup.sizeBytes() - position);
    file.read(Buffer.buffer(length), 0, position, length).onComplete(ar -> {
      if (canceled || finished) {
        return;
      }
      if (ar.failed() || ar.result().length() != length) {
        finish(BusClient.toEtcd(ar.failed() ? ar.cause() : new java.io.IOException("backup file ended early")));
        return;
      }
      position += length;
      sink.write(SnapshotResponse.newBuilder().setRemainingBytes(backup.sizeBytes() - position)
          .setBlob(ByteString.copyFrom(ar.result().getBytes())).build());
      if (sink.writeQueueFull()) {
        sink.drainHandler(this::next);
      } else {
        next();
      }
    });
  }

  private void finish(EtcdException failure) {
    if (finished) {
      return;
    }
    finished = true;
    if (failure == null) {
      sink.end();
    } else if (!canceled) {
      log.warn("snapshot stream failed: {}", failure.getMessage());
      sink.fail(failure);
    }
    cleanUp();
  }

  private void cancel() {
    if (!finished && !canceled) {
      canceled = true;
      finished = true;
      cleanUp();
    }
  }

  private void cleanUp() {
    AsyncFile open = file;
    file = null;
    if (open != null) {
      open.close();
    }
    if (backup != null) {
      String path = backup.file();
      vertx.fileSystem().delete(path).onFailure(e -> log.debug("backup file {} not deleted: {}", path, e.toString()));
    }
  }
}
