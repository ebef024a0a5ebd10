package io.vetcd.bus;

/** Event-bus addresses of the local verticles. Every message on them is local-only. */
public final class Addresses {
  private Addresses() {}

  /** {@link Commands.Write}: a write to replicate; the reply is the response proto. */
  public static final String APPLY_WRITE = "vetcd.apply.write";
  /** {@link Commands.Read}: a read; the reply is the response proto. */
  public static final String APPLY_READ = "vetcd.apply.read";
  /** {@link Commands.KeepAlive}: renew a lease (not replicated, answered by the leader). */
  public static final String APPLY_KEEPALIVE = "vetcd.apply.keepalive";
  /** {@link Commands.ExpiredLeases}: which leases have run out (asked by the lease verticle). */
  public static final String APPLY_EXPIRED_LEASES = "vetcd.apply.expired";
  /** {@link Commands.History}: events of past revisions, to catch watchers up. */
  public static final String APPLY_HISTORY = "vetcd.apply.history";
  /** {@link Commands.Backup}: write a backup once the writes applied so far are committed. */
  public static final String APPLY_BACKUP = "vetcd.apply.backup";
  public static final String APPLY_DEFRAGMENT = "vetcd.apply.defragment";
  /** Raft → apply: {@link Raft.Committed}, {@link Raft.ReadIndexDone}, {@link Raft.State}. */
  public static final String APPLY_FROM_RAFT = "vetcd.apply.fromraft";

  /**
   * Raft → apply: a call forwarded by a follower, as bytes ({@link Raft.ForwardToLeader#payload()});
   * answered only if this member leads.
   */
  public static final String APPLY_FORWARDED = "vetcd.apply.forwarded";

  /** Apply → raft: {@link Raft.ForwardToLeader}; the reply is the leader's answer as bytes. */
  public static final String RAFT_FORWARD = "vetcd.raft.forward";

  /**
   * Frontends → apply: a Cluster API write (MemberAddRequest, MemberRemoveRequest, MemberUpdateRequest,
   * MemberPromoteRequest); the reply is the response proto.
   */
  public static final String CLUSTER = "vetcd.cluster";

  /** Apply → raft: {@link Raft.Propose}, {@link Raft.ReadIndex}. */
  public static final String RAFT = "vetcd.raft";

  /** Apply → watch: {@link Watches.Revision}. Frontends → watch: stream commands. */
  public static final String WATCH = "vetcd.watch";

  /** Where the watch verticle sends the responses of one client stream. */
  public static String watchStream(String streamKey) {
    return "vetcd.watch.stream." + streamKey;
  }
}
