package io.vetcd.errors;

import static io.vetcd.errors.GrpcCode.*;

/** etcd's errors, with the gRPC code and exact message etcd 3.4 answers. */
public final class Errors {
  private Errors() {}

  public static final EtcdException EMPTY_KEY = e(INVALID_ARGUMENT, "etcdserver: key is not provided");
  public static final EtcdException KEY_NOT_FOUND = e(INVALID_ARGUMENT, "etcdserver: key not found");
  public static final EtcdException VALUE_PROVIDED = e(INVALID_ARGUMENT, "etcdserver: value is provided");
  public static final EtcdException LEASE_PROVIDED = e(INVALID_ARGUMENT, "etcdserver: lease is provided");
  public static final EtcdException TOO_MANY_OPS = e(INVALID_ARGUMENT, "etcdserver: too many operations in txn request");
  public static final EtcdException DUPLICATE_KEY = e(INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request");
  public static final EtcdException REQUEST_TOO_LARGE = e(INVALID_ARGUMENT, "etcdserver: request is too large");
  public static final EtcdException COMPACTED = e(OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted");
  public static final EtcdException FUTURE_REV = e(OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision");
  public static final EtcdException NO_SPACE = e(RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded");
  public static final EtcdException LEASE_NOT_FOUND = e(NOT_FOUND, "etcdserver: requested lease not found");
  public static final EtcdException LEASE_EXIST = e(FAILED_PRECONDITION, "etcdserver: lease already exists");
  public static final EtcdException LEASE_TTL_TOO_LARGE = e(OUT_OF_RANGE, "etcdserver: too large lease TTL");
  public static final EtcdException MEMBER_EXIST = e(FAILED_PRECONDITION, "etcdserver: member ID already exist");
  public static final EtcdException PEER_URL_EXIST = e(FAILED_PRECONDITION, "etcdserver: Peer URLs already exists");
  public static final EtcdException MEMBER_NOT_FOUND = e(NOT_FOUND, "etcdserver: member not found");
  public static final EtcdException MEMBER_NOT_LEARNER = e(FAILED_PRECONDITION, "etcdserver: can only promote a learner member");
  public static final EtcdException NO_LEADER = e(UNAVAILABLE, "etcdserver: no leader");
  public static final EtcdException NOT_LEADER = e(FAILED_PRECONDITION, "etcdserver: not leader");
  public static final EtcdException LEADER_CHANGED = e(UNAVAILABLE, "etcdserver: leader changed");
  public static final EtcdException STOPPED = e(UNAVAILABLE, "etcdserver: server stopped");
  public static final EtcdException TIMEOUT = e(UNAVAILABLE, "etcdserver: request timed out");
  /**
   * A write that waited its whole request timeout for a leader: etcd's proposal blocks until its
   * context ends and the context's own error reaches the client, with no gRPC code (checked with etcd 3.4.23).
   */
  public static final EtcdException DEADLINE_WITHOUT_LEADER = e(UNKNOWN, "context deadline exceeded");
  public static final EtcdException TOO_MANY_REQUESTS = e(RESOURCE_EXHAUSTED, "etcdserver: too many requests");
  public static final EtcdException PERMISSION_DENIED_ERR = e(PERMISSION_DENIED, "etcdserver: permission denied");
  public static final EtcdException INVALID_AUTH_TOKEN = e(UNAUTHENTICATED, "etcdserver: invalid auth token");
  public static final EtcdException USER_EMPTY = e(INVALID_ARGUMENT, "etcdserver: user name is empty");
  public static final EtcdException AUTH_FAILED = e(INVALID_ARGUMENT, "etcdserver: authentication failed, invalid user ID or password");
  public static final EtcdException LEARNER_REFUSED = e(UNAVAILABLE, "etcdserver: rpc not supported for learner");
  /** etcd 3.4 maps this one to no gRPC code: clients see UNKNOWN (checked with etcd 3.4.23). */
  public static final EtcdException NOT_ENOUGH_STARTED_MEMBERS =
      e(UNKNOWN, "etcdserver: re-configuration failed due to not enough started members");
  public static final EtcdException UNHEALTHY = e(UNAVAILABLE, "etcdserver: unhealthy cluster");
  public static final EtcdException CORRUPT = e(DATA_LOSS, "etcdserver: corrupt cluster");
  public static final EtcdException WATCH_CANCELED = e(CANCELLED, "etcdserver: watch canceled");
  /** A role grant without a permission: etcd 3.4.23 crashes on it; etcd 3.5 answers this. */
  public static final EtcdException PERMISSION_NOT_GIVEN = e(INVALID_ARGUMENT, "etcdserver: permission not given");

  private static EtcdException e(GrpcCode code, String message) {
    return new EtcdException(code, message);
  }
}
