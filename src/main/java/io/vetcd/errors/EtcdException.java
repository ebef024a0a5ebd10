package io.vetcd.errors;

/**
 * A request rejected the way etcd rejects it: a gRPC status code and etcd's exact message.
 * Pure (no Vert.x): the cores throw it, the frontends translate it to their wire.
 */
public final class EtcdException extends RuntimeException {
  private final GrpcCode code;

  public EtcdException(GrpcCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public GrpcCode code() {
    return code;
  }

  @Override
  public String toString() {
    return "EtcdException(" + code + ": " + getMessage() + ")";
  }
}
