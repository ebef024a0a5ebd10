package io.vetcd.watch;

import com.google.protobuf.ByteString;
import io.vetcd.mvcc.KeyOrder;
import io.vetcd.pb.Event;
import io.vetcd.pb.WatchCreateRequest;
import io.vetcd.pb.WatchResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Every watcher of this member and where each one stands. Pure: the shell feeds it the events of
 * each applied revision and the history it asked for, and sends the {@link Outgoing} responses.
 *
 * <p>A watcher is <em>synced</em> when its next revision is past the store's revision: it gets live
 * events. Otherwise it is <em>unsynced</em> and is caught up from history, a bounded batch of
 * revisions at a time. A stream whose client reads too slowly is <em>blocked</em>: nothing is queued
 * for it; once it drains, its watchers are caught up from history. Memory stays bounded and no
 * event is lost or repeated.
 */
public final class WatchHub {
  public static final String DUPLICATE_ID = "mvcc: duplicate watch ID provided on the WatchStream";
  public static final String EMPTY_RANGE = "mvcc: watcher range is empty";

  private static final class Watcher {
    final long streamId;
    final long watchId;
    final KeyRange range;
    final boolean prevKv;
    final boolean noPut;
    final boolean noDelete;
    final boolean fragment;
    final boolean progressNotify;
    long nextRevision;

    Watcher(long streamId, long watchId, KeyRange range, boolean prevKv, boolean noPut, boolean noDelete,
        boolean fragment, boolean progressNotify, long next) {
      this.fragment = fragment;
      this.progressNotify = progressNotify;
      this.streamId = streamId;
      this.watchId = watchId;
      this.range = range;
      this.prevKv = prevKv;
      this.noPut = noPut;
      this.noDelete = noDelete;
      this.nextRevision = next;
    }
  }

  private static final class Stream {
    final Map<Long, Watcher> watchers = new LinkedHashMap<>();
    long nextWatchId;
    boolean blocked;
  }

  private final Map<Long, Stream> streams = new HashMap<>();
  /** Streams whose progress request waits until every watcher of theirs is synced, in request order. */
  private final Set<Long> progressWaiting = new LinkedHashSet<>();
  private long currentRevision;
  private long compactRevision;
  private int watcherCount;

  public WatchHub(long currentRevision, long compactRevision) {
    this.currentRevision = currentRevision;
    this.compactRevision = compactRevision;
  }

  public long currentRevision() {
    return currentRevision;
  }

  public int watcherCount() {
    return watcherCount;
  }

  public void setCompactRevision(long compactRevision) {
    this.compactRevision = compactRevision;
  }

  public List<Outgoing> create(long streamId, WatchCreateRequest request) {
    Stream stream = streams.computeIfAbsent(streamId, id -> new Stream());
    long watchId = request.getWatchId();
    if (isEmptyRange(request.getKey(), request.getRangeEnd())) {
      return List.of(new Outgoing(streamId, WatchResponse.newBuilder().setWatchId(-1).setCreated(true)
          .setCanceled(true).setCancelReason(EMPTY_RANGE).build(), currentRevision));
    }
    if (watchId != 0 && stream.watchers.containsKey(watchId)) {
      return List.of(new Outgoing(streamId, WatchResponse.newBuilder().setWatchId(-1).setCreated(true)
          .setCanceled(true).setCancelReason(DUPLICATE_ID).build(), currentRevision));
    }
    if (watchId == 0) {
      while (stream.watchers.containsKey(stream.nextWatchId)) {
        stream.nextWatchId++;
      }
      watchId = stream.nextWatchId++;
    }
    boolean noPut = request.getFiltersList().contains(WatchCreateRequest.FilterType.NOPUT);
    boolean noDelete = request.getFiltersList().contains(WatchCreateRequest.FilterType.NODELETE);
    // 0 means "from the next revision"; etcd takes a negative start as a revision before every other,
    // so it replays all history, or is canceled as compacted once anything was compacted.
    long start = request.getStartRevision() == 0 ? currentRevision + 1 : Math.max(1, request.getStartRevision());
    Watcher watcher = new Watcher(streamId, watchId, new KeyRange(request.getKey(), request.getRangeEnd()),
        request.getPrevKv(), noPut, noDelete, request.getFragment(), request.getProgressNotify(), start);
    stream.watchers.put(watchId, watcher);
    watcherCount++;
    List<Outgoing> out = new ArrayList<>();
    out.add(new Outgoing(streamId, WatchResponse.newBuilder().setWatchId(watchId).setCreated(true).build(),
        currentRevision));
    if (start < compactRevision) {
      out.add(compacted(watcher));
      remove(watcher);
    }
    return out;
  }

  /**
   * etcd refuses a watch whose range holds no key (key at or after range end; an empty key stands for
   * "\0", an end of "\0" for "every key from key"), before it checks the id or the start revision.
   */
  private static boolean isEmptyRange(ByteString key, ByteString rangeEnd) {
    if (rangeEnd.isEmpty() || (rangeEnd.size() == 1 && rangeEnd.byteAt(0) == 0)) {
      return false;
    }
    ByteString effectiveKey = key.isEmpty() ? ByteString.copyFrom(new byte[] {0}) : key;
    return KeyOrder.INSTANCE.compare(effectiveKey, rangeEnd) >= 0;
  }

  public List<Outgoing> cancel(long streamId, long watchId) {
    Stream stream = streams.get(streamId);
    Watcher watcher = stream == null ? null : stream.watchers.get(watchId);
    if (watcher == null) {
      return List.of();
    }
    remove(watcher);
    List<Outgoing> out = new ArrayList<>();
    out.add(new Outgoing(streamId, WatchResponse.newBuilder().setWatchId(watchId).setCanceled(true).build(),
        currentRevision));
    return answerDeferredProgress(out);
  }

  /**
   * A progress request: answered (watch id -1, as etcd) with the current revision once every watcher
   * of the stream is synced, so the answer is a true bookmark: every event up to that revision was
   * sent before it. A watcher still catching up from history (or a blocked stream) defers the answer
   * until it has caught up, as etcd does since the fix of etcd-io/etcd#15220; answering at once told a
   * watcher behind the current revision that it had seen everything, and a client resuming from that
   * bookmark skipped the events in between.
   */
  public List<Outgoing> progress(long streamId) {
    Stream stream = streams.get(streamId);
    if (stream == null || synced(stream)) {
      return List.of(progressResponse(streamId));
    }
    progressWaiting.add(streamId);
    return List.of();
  }

  private Outgoing progressResponse(long streamId) {
    return new Outgoing(streamId, WatchResponse.newBuilder().setWatchId(-1).build(), currentRevision);
  }

  /** Whether the stream is not blocked and every one of its watchers has been sent all up to the current revision. */
  private boolean synced(Stream stream) {
    if (stream.blocked) {
      return false;
    }
    for (Watcher watcher : stream.watchers.values()) {
      if (watcher.nextRevision <= currentRevision) {
        return false;
      }
    }
    return true;
  }

  /** Answers the deferred progress requests of the streams that are synced now (after what {@code out} sends). */
  private List<Outgoing> answerDeferredProgress(List<Outgoing> out) {
    for (Iterator<Long> it = progressWaiting.iterator(); it.hasNext(); ) {
      long streamId = it.next();
      if (synced(streams.get(streamId))) {
        it.remove();
        out.add(progressResponse(streamId));
      }
    }
    return out;
  }

  /**
   * The periodic progress notification: every synced watcher that asked for progress_notify learns
   * that it has seen everything up to the current revision.
   */
  public List<Outgoing> progressNotify() {
    List<Outgoing> out = new ArrayList<>();
    for (Stream stream : streams.values()) {
      if (stream.blocked) {
        continue;
      }
      for (Watcher watcher : stream.watchers.values()) {
        if (watcher.progressNotify && watcher.nextRevision > currentRevision) {
          out.add(new Outgoing(watcher.streamId, WatchResponse.newBuilder().setWatchId(watcher.watchId).build(),
              currentRevision));
        }
      }
    }
    return out;
  }

  public void closeStream(long streamId) {
    Stream stream = streams.remove(streamId);
    if (stream != null) {
      watcherCount -= stream.watchers.size();
    }
    progressWaiting.remove(streamId);
  }

  /** The client of this stream reads too slowly: stop sending; catch it up from history later. */
  public void block(long streamId) {
    Stream stream = streams.get(streamId);
    if (stream != null) {
      stream.blocked = true;
    }
  }

  /** The stream drained; a deferred progress request may be answered now. */
  public List<Outgoing> unblock(long streamId) {
    Stream stream = streams.get(streamId);
    if (stream != null) {
      stream.blocked = false;
    }
    return answerDeferredProgress(new ArrayList<>());
  }

  /** The events of a newly applied revision (possibly none, for a write that changed nothing visible). */
  public List<Outgoing> onRevision(long revision, List<Event> events) {
    if (revision <= currentRevision) {
      throw new IllegalStateException("revision went backwards: " + revision + " after " + currentRevision);
    }
    boolean contiguous = revision == currentRevision + 1;
    currentRevision = revision;
    List<Outgoing> out = new ArrayList<>();
    for (Stream stream : streams.values()) {
      if (stream.blocked) {
        continue;
      }
      for (Watcher watcher : stream.watchers.values()) {
        // Watchers behind (unsynced) or ahead (future start) are left alone; history catches them up.
        if (watcher.nextRevision == revision && contiguous) {
          WatchResponse response = matching(watcher, events, revision);
          watcher.nextRevision = revision + 1;
          if (response != null) {
            out.add(new Outgoing(watcher.streamId, response, revision, watcher.fragment));
          }
        }
      }
    }
    return answerDeferredProgress(out);
  }

  /** One revision's events, for {@link #onRevisions}. */
  public record RevisionEvents(long revision, List<Event> events) {}

  /**
   * Several revisions applied in one go, in increasing order: each synced watcher gets the events of
   * all of them that concern it in one response (etcd also sends several revisions in one response);
   * the events of one revision are never split. Each event carries its revision (a put's and a
   * delete's mod_revision), so a contiguous batch is served like a slice of history.
   */
  public List<Outgoing> onRevisions(List<RevisionEvents> revisions) {
    if (revisions.size() == 1) {
      return onRevision(revisions.get(0).revision(), revisions.get(0).events());
    }
    long first = revisions.get(0).revision();
    long previous = currentRevision;
    boolean contiguous = true;
    List<Event> events = new ArrayList<>();
    for (RevisionEvents r : revisions) {
      if (r.revision() <= previous) {
        throw new IllegalStateException("revision went backwards: " + r.revision() + " after " + previous);
      }
      contiguous &= r.revision() == previous + 1;
      previous = r.revision();
      events.addAll(r.events());
    }
    currentRevision = previous;
    if (!contiguous) {
      return answerDeferredProgress(new ArrayList<>()); // a gap: history catches every watcher up
    }
    return onHistory(first, previous, events);
  }

  /** Watchers behind the current revision or on a stream that reads too slowly (etcd's unsynced and victims). */
  public int slowWatcherCount() {
    int slow = 0;
    for (Stream stream : streams.values()) {
      for (Watcher watcher : stream.watchers.values()) {
        if (stream.blocked || watcher.nextRevision <= currentRevision) {
          slow++;
        }
      }
    }
    return slow;
  }

  /** Where history must start to catch up the unsynced watchers, if any are waiting. */
  public OptionalLong catchUpFrom() {
    long min = Long.MAX_VALUE;
    for (Stream stream : streams.values()) {
      if (stream.blocked) {
        continue;
      }
      for (Watcher watcher : stream.watchers.values()) {
        if (watcher.nextRevision <= currentRevision) {
          min = Math.min(min, watcher.nextRevision);
        }
      }
    }
    return min == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(min);
  }

  /** Watchers that need revisions older than the compaction are canceled with compact_revision set. */
  public List<Outgoing> cancelCompacted() {
    List<Outgoing> out = new ArrayList<>();
    for (Stream stream : streams.values()) {
      for (Iterator<Watcher> it = stream.watchers.values().iterator(); it.hasNext(); ) {
        Watcher watcher = it.next();
        if (!stream.blocked && watcher.nextRevision < compactRevision && watcher.nextRevision <= currentRevision) {
          out.add(compacted(watcher));
          it.remove();
          watcherCount--;
        }
      }
    }
    return answerDeferredProgress(out);
  }

  /**
   * History for revisions [from, to] (every event of those revisions, in order, prev_kv filled).
   * Unsynced watchers at or after {@code from} get what they miss up to {@code to}.
   */
  public List<Outgoing> onHistory(long from, long to, List<Event> events) {
    List<Outgoing> out = new ArrayList<>();
    for (Stream stream : streams.values()) {
      if (stream.blocked) {
        continue;
      }
      for (Watcher watcher : stream.watchers.values()) {
        if (watcher.nextRevision < from || watcher.nextRevision > to) {
          continue;
        }
        WatchResponse.Builder response = null;
        for (Event event : events) {
          long rev = event.getKv().getModRevision();
          if (rev < watcher.nextRevision || rev > to) {
            continue;
          }
          Event filtered = filter(watcher, event);
          if (filtered != null) {
            if (response == null) {
              response = WatchResponse.newBuilder().setWatchId(watcher.watchId);
            }
            response.addEvents(filtered);
          }
        }
        watcher.nextRevision = to + 1;
        if (response != null) {
          out.add(new Outgoing(watcher.streamId, response.build(), Math.min(to, currentRevision), watcher.fragment));
        }
      }
    }
    return answerDeferredProgress(out);
  }

  private WatchResponse matching(Watcher watcher, List<Event> events, long revision) {
    WatchResponse.Builder response = null;
    for (Event event : events) {
      Event filtered = filter(watcher, event);
      if (filtered != null) {
        if (response == null) {
          response = WatchResponse.newBuilder().setWatchId(watcher.watchId);
        }
        response.addEvents(filtered);
      }
    }
    return response == null ? null : response.build();
  }

  private static Event filter(Watcher watcher, Event event) {
    if (!watcher.range.contains(event.getKv().getKey())) {
      return null;
    }
    boolean put = event.getType() == Event.EventType.PUT;
    if ((put && watcher.noPut) || (!put && watcher.noDelete)) {
      return null;
    }
    if (!watcher.prevKv && event.hasPrevKv()) {
      return event.toBuilder().clearPrevKv().build();
    }
    return event;
  }

  /** etcd's cancellation of a watch whose start was compacted: its header carries no revision. */
  private Outgoing compacted(Watcher watcher) {
    return new Outgoing(watcher.streamId, WatchResponse.newBuilder().setWatchId(watcher.watchId)
        .setCanceled(true).setCompactRevision(compactRevision).build(), 0);
  }

  private void remove(Watcher watcher) {
    Stream stream = streams.get(watcher.streamId);
    if (stream != null && stream.watchers.remove(watcher.watchId) != null) {
      watcherCount--;
    }
  }
}
