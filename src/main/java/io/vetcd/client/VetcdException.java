package io.vetcd.client;

import io.vertx.grpc.common.GrpcStatus;

/**
 * A failed etcd call: the gRPC status code and etcd's message (for example {@code OUT_OF_RANGE},
 * {@code "etcdserver: mvcc: required revision has been compacted"}).
 *
 * <p>{@link #mayHaveBeenApplied()} is true when a write was sent but no answer came back (the
 * connection broke, the deadline passed, the member lost its leader): the write may or may not have
 * been applied. The client never resends such a write on its own; the caller decides (for example by
 * reading the key back, or by guarding the write with a txn compare).
 */
public class VetcdException extends RuntimeException {
  private final GrpcStatus status;
  private final String etcdMessage;
  private final boolean mayHaveBeenApplied;
  private final long compactRevision;

  public VetcdException(GrpcStatus status, String message) {
    this(status, message, false, 0, null);
  }

  public VetcdException(GrpcStatus status, String message, boolean mayHaveBeenApplied, long compactRevision,
      Throwable cause) {
    super(status + ": " + message + (mayHaveBeenApplied ? " (the request may have been applied)" : ""), cause);
    this.status = status;
    this.etcdMessage = message;
    this.mayHaveBeenApplied = mayHaveBeenApplied;
    this.compactRevision = compactRevision;
  }

  /** The gRPC status, e.g. {@code INVALID_ARGUMENT}. */
  public GrpcStatus status() {
    return status;
  }

  /** The numeric gRPC code, e.g. 3 for INVALID_ARGUMENT. */
  public int code() {
    return status.code;
  }

  /** etcd's message, e.g. {@code etcdserver: key is not provided}. */
  public String etcdMessage() {
    return etcdMessage;
  }

  /** True when a non-idempotent request was sent and its outcome is unknown. */
  public boolean mayHaveBeenApplied() {
    return mayHaveBeenApplied;
  }

  /** For a watch canceled because its start revision was compacted: the compact revision, else 0. */
  public long compactRevision() {
    return compactRevision;
  }

  VetcdException withMayHaveBeenApplied() {
    return new VetcdException(status, etcdMessage, true, compactRevision, getCause());
  }
}
