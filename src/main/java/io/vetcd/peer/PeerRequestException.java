package io.vetcd.peer;

/** A peer request failed: the peer answered with an error, or no answer came in time. */
public final class PeerRequestException extends RuntimeException {
  /** The gRPC status code the peer answered with, or {@link #NO_ANSWER}. */
  public static final int NO_ANSWER = -1;

  private final int code;

  public PeerRequestException(int code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public int code() {
    return code;
  }
}
