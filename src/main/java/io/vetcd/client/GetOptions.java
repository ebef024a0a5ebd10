package io.vetcd.client;

import com.google.protobuf.ByteString;
import io.vetcd.pb.RangeRequest;

/** Every option of etcd's Range request. */
public final class GetOptions {
  private ByteString rangeEnd;
  private boolean prefix;
  private boolean fromKey;
  private long limit;
  private long revision;
  private RangeRequest.SortOrder sortOrder = RangeRequest.SortOrder.NONE;
  private RangeRequest.SortTarget sortTarget = RangeRequest.SortTarget.KEY;
  private boolean serializable;
  private boolean keysOnly;
  private boolean countOnly;
  private long minModRevision;
  private long maxModRevision;
  private long minCreateRevision;
  private long maxCreateRevision;

  public static GetOptions options() {
    return new GetOptions();
  }

  /** Every key with the given key as prefix. */
  public GetOptions prefix() {
    this.prefix = true;
    return this;
  }

  /** Every key greater than or equal to the key. */
  public GetOptions fromKey() {
    this.fromKey = true;
    return this;
  }

  public GetOptions rangeEnd(String end) {
    return rangeEnd(Keys.bs(end));
  }

  public GetOptions rangeEnd(ByteString end) {
    this.rangeEnd = end;
    return this;
  }

  public GetOptions limit(long limit) {
    this.limit = limit;
    return this;
  }

  /** Read at this revision (0: the latest). */
  public GetOptions revision(long revision) {
    this.revision = revision;
    return this;
  }

  public GetOptions sort(RangeRequest.SortTarget target, RangeRequest.SortOrder order) {
    this.sortTarget = target;
    this.sortOrder = order;
    return this;
  }

  /** Sorted by create revision, oldest first (etcd's WithFirstCreate, with limit 1). */
  public GetOptions firstCreate() {
    return sort(RangeRequest.SortTarget.CREATE, RangeRequest.SortOrder.ASCEND).limit(1);
  }

  /** Sorted by create revision, newest first (etcd's WithLastCreate, with limit 1). */
  public GetOptions lastCreate() {
    return sort(RangeRequest.SortTarget.CREATE, RangeRequest.SortOrder.DESCEND).limit(1);
  }

  /** A serializable (possibly stale, member-local) read instead of a linearizable one. */
  public GetOptions serializable() {
    this.serializable = true;
    return this;
  }

  public GetOptions keysOnly() {
    this.keysOnly = true;
    return this;
  }

  public GetOptions countOnly() {
    this.countOnly = true;
    return this;
  }

  public GetOptions minModRevision(long r) {
    this.minModRevision = r;
    return this;
  }

  public GetOptions maxModRevision(long r) {
    this.maxModRevision = r;
    return this;
  }

  public GetOptions minCreateRevision(long r) {
    this.minCreateRevision = r;
    return this;
  }

  public GetOptions maxCreateRevision(long r) {
    this.maxCreateRevision = r;
    return this;
  }

  RangeRequest toRequest(ByteString key) {
    RangeRequest.Builder b = RangeRequest.newBuilder().setKey(key)
        .setLimit(limit).setRevision(revision).setSortOrder(sortOrder).setSortTarget(sortTarget)
        .setSerializable(serializable).setKeysOnly(keysOnly).setCountOnly(countOnly)
        .setMinModRevision(minModRevision).setMaxModRevision(maxModRevision)
        .setMinCreateRevision(minCreateRevision).setMaxCreateRevision(maxCreateRevision);
    ByteString end = end(key, rangeEnd, prefix, fromKey);
    if (end != null) b.setRangeEnd(end);
    return b.build();
  }

  static ByteString end(ByteString key, ByteString rangeEnd, boolean prefix, boolean fromKey) {
    if (rangeEnd != null) return rangeEnd;
    if (prefix) return Keys.prefixEnd(key);
    if (fromKey) return ByteString.copyFrom(new byte[] {0});
    return null;
  }
}
