package io.vetcd.watch;

import io.vetcd.pb.WatchResponse;

/**
 * A watch response for one stream; the shell adds the header (whose revision is {@code headerRevision})
 * and, when the watcher asked for {@code fragment}, splits a response too large for one message.
 */
public record Outgoing(long streamId, WatchResponse response, long headerRevision, boolean fragment) {
  public Outgoing(long streamId, WatchResponse response, long headerRevision) {
    this(streamId, response, headerRevision, false);
  }
}
