package io.vetcd.bus;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;

/**
 * The raft verticle's current view of the leader (and whether this member is a learner), readable from any thread (frontends check it for
 * gRPC's {@code hasleader=true} metadata without a bus round trip).
 */
public final class RaftStatus {
  private static final String MAP = "vetcd.raft.status";
  private static final String LEADER = "leader";
  private static final String TERM = "term";
  private static final String LEARNER = "learner";

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

  public static void setLearner(Vertx vertx, boolean learner) {
    map(vertx).put(LEARNER, learner ? 1L : 0L);
  }

  /** Whether this member is a learner (etcd refuses most client requests on learners). */
  public static boolean learner(Vertx vertx) {
    Long learner = map(vertx).get(LEARNER);
    return learner != null && learner == 1L;
  }

  private static LocalMap<String, Long> map(Vertx vertx) {
    return vertx.sharedData().getLocalMap(MAP);
  }
}
