package io.vetcd.bus;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;

/**
 * The raft verticle's current view of the leader, readable from any thread (frontends check it for
 * gRPC's {@code hasleader=true} metadata without a bus round trip).
 */
public final class RaftStatus {
  private static final String MAP = "vetcd.raft.status";
  private static final String LEADER = "leader";
  private static final String TERM = "term";

  private RaftStatus() {}

  public static void setLeader(Vertx vertx, long leaderId) {
    map(vertx).put(LEADER, leaderId);
  }

  public static void setTerm(Vertx vertx, long term) {
    map(vertx).put(TERM, term);
  }

  /** The member's current raft term (0 before the raft verticle started). */
  public static long term(Vertx vertx) {
    Long term = map(vertx).get(TERM);
    return term == null ? 0 : term;
  }

  /** The known leader's member id, 0 if there is none. */
  public static long leader(Vertx vertx) {
    Long leader = map(vertx).get(LEADER);
    return leader == null ? 0 : leader;
  }

  private static LocalMap<String, Long> map(Vertx vertx) {
    return vertx.sharedData().getLocalMap(MAP);
  }
}
