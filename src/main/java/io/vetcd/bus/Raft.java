package io.vetcd.bus;

import io.vetcd.raft.Entry;
import java.util.List;

/** Messages between the raft verticle and the apply verticle. Immutable. */
public final class Raft {
  private Raft() {}

  public record Propose(long requestId, byte[] data) {}

  /** A proposal the raft node refused (no leader, too many pending). */
  public record ProposeFailed(long requestId, String reason) {}

  public record ReadIndex(long context) {}

  public record ReadIndexDone(long context, long index) {}

  public record ReadIndexFailed(long context) {}

  /** Committed entries, durable in the WAL, in log order. */
  public record Committed(List<Entry> entries, long term) {
    public Committed {
      entries = List.copyOf(entries);
    }
  }

  /**
   * A call only the leader can answer (lease keep-alive, time-to-live), forwarded over the peer
   * transport by a follower. The payload is opaque to raft; the reply is the answer's bytes.
   */
  public record ForwardToLeader(byte[] payload) {}

  /**
   * Maintenance.MoveLeader: the leader hands leadership to {@code targetId}; the reply (a Long) is
   * the new leader's id once it leads.
   */
  public record TransferLeader(long targetId) {}

  /** The member's view of the cluster: leader, term, commit index. */
  public record State(long memberId, long leaderId, long term, long commitIndex, boolean leader) {}
}
