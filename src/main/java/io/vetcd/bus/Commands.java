package io.vetcd.bus;

import com.google.protobuf.Message;
import io.vetcd.pb.Event;
import io.vetcd.pb.internal.InternalRequest;
import java.util.List;

/** Requests from the frontends (and the lease verticle) to the apply verticle. Immutable. */
public final class Commands {
  private Commands() {}

  /** A write to replicate through raft; the proposer fills in member and request ids. */
  public record Write(InternalRequest request) {}

  /** A read; {@code request} is one of the read request protos. */
  public record Read(Message request, boolean linearizable) {}

  public record KeepAlive(long leaseId) {}

  public record ExpiredLeases(int max) {}

  public record ExpiredLeasesResult(List<Long> leaseIds) {
    public ExpiredLeasesResult {
      leaseIds = List.copyOf(leaseIds);
    }
  }

  public record History(long fromRevision, long toRevision, int maxRevisions) {}

  public record HistoryResult(long fromRevision, long toRevision, List<Event> events) {
    public HistoryResult {
      events = List.copyOf(events);
    }
  }

  /**
   * A point-in-time backup of the store in etcd's backend format (Maintenance.Snapshot); the reply is
   * {@link BackupWritten}. The requester streams the file and deletes it.
   */
  public record Backup() {}

  /** Maintenance.Defragment: compact the store's file, between applies. */
  public record Defragment() {}

  /** The backup file, its size, and the sha256 of its bytes (etcd's trailer). */
  public record BackupWritten(String file, long sizeBytes, byte[] sha256) {}
}
