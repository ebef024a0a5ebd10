package io.vetcd.bus;

import io.vetcd.raft.Entry;
import java.util.List;

/** Messages between the raft verticle and the apply verticle. Immutable. */
public final class Raft {
  private Raft() {}

  public record Propose(long requestId, byte[] data) {}

  /** A proposal the raft node refused (no leader, too many pending). */
  public record ProposeFailed(long requestId, String reason) {
    /** The reason of a proposal held for a leader until its time ran out: etcd's deadline error. */
    public static final String NO_LEADER_IN_TIME = "no leader in time";

    public boolean noLeaderInTime() {
      return NO_LEADER_IN_TIME.equals(reason);
    }
  }

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

  /** Apply → raft: the store is durable at {@code index}: compact the raft log and the WAL up to it. */
  public record Compact(long index) {}

  /**
   * Raft → apply: a follower needs a store snapshot at {@code minIndex} or later; the reply is a
   * {@link io.vetcd.server.Snapshots.Info}-shaped {@link SnapshotReady}.
   */
  public record PrepareSnapshot(long minIndex) {}

  /** The store snapshot file at {@code index} (of {@code term}) with the membership then. */
  public record SnapshotReady(long index, long term, List<Long> voters, List<Long> learners, long size) {
    public SnapshotReady {
      voters = List.copyOf(voters);
      learners = List.copyOf(learners);
    }
  }

  /** Raft → apply: replace the store by the snapshot in {@code path}; the reply is {@link Installed}. */
  public record InstallSnapshot(String path, long index) {}

  /** The store after a snapshot install: its applied index and every member's peer URLs. */
  public record Installed(long index, java.util.Map<Long, List<String>> peerUrls, java.util.Set<Long> removed) {}

  /** Apply → raft: propose a membership change (an encoded {@link io.vetcd.raft.ConfChange}). */
  public record ProposeConfChange(long requestId, byte[] data) {}

  /** Apply → raft: how far a learner is ({@code long[] {leaderMatch, learnerMatch}}), asked of the leader. */
  public record LearnerProgress(long memberId) {}

  /**
   * Apply → raft: the peers this member has been connected to for at least {@code forMillis}
   * ({@code long[]} of member ids), for the cluster API's strict reconfiguration check.
   */
  public record ActivePeers(long forMillis) {}
}
