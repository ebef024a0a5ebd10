package io.vetcd.watch;

import io.vetcd.pb.WatchResponse;

/** A watch response for one stream; the shell adds the header (whose revision is {@code headerRevision}). */
public record Outgoing(long streamId, WatchResponse response, long headerRevision) {}
