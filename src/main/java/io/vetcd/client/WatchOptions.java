package io.vetcd.client;

import com.google.protobuf.ByteString;
import io.vetcd.pb.WatchCreateRequest;

/** What to watch and from where. */
public final class WatchOptions {
  private ByteString rangeEnd;
  private boolean prefix;
  private boolean fromKey;
  private long startRevision;
  private boolean prevKv;
  private boolean noPut;
  private boolean noDelete;
  private boolean progressNotify;

  public static WatchOptions options() {
    return new WatchOptions();
  }

  public WatchOptions prefix() {
    this.prefix = true;
    return this;
  }

  public WatchOptions fromKey() {
    this.fromKey = true;
    return this;
  }

  public WatchOptions rangeEnd(ByteString end) {
    this.rangeEnd = end;
    return this;
  }

  /** The first revision to deliver; 0 (the default) means changes after the current revision. */
  public WatchOptions startRevision(long revision) {
    this.startRevision = revision;
    return this;
  }

  public WatchOptions prevKv() {
    this.prevKv = true;
    return this;
  }

  public WatchOptions noPut() {
    this.noPut = true;
    return this;
  }

  public WatchOptions noDelete() {
    this.noDelete = true;
    return this;
  }

  /** Ask the server for periodic progress notifications (they also make resuming cheaper). */
  public WatchOptions progressNotify() {
    this.progressNotify = true;
    return this;
  }

  long startRevision() {
    return startRevision;
  }

  WatchCreateRequest toRequest(ByteString key, long startRevision) {
    WatchCreateRequest.Builder b = WatchCreateRequest.newBuilder().setKey(key).setStartRevision(startRevision)
        .setPrevKv(prevKv).setProgressNotify(progressNotify);
    ByteString end = GetOptions.end(key, rangeEnd, prefix, fromKey);
    if (end != null) b.setRangeEnd(end);
    if (noPut) b.addFilters(WatchCreateRequest.FilterType.NOPUT);
    if (noDelete) b.addFilters(WatchCreateRequest.FilterType.NODELETE);
    return b.build();
  }
}
