package io.vetcd.server;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.Commands;
import io.vetcd.bus.Watches;
import io.vetcd.pb.ResponseHeader;
import io.vetcd.pb.WatchRequest;
import io.vetcd.pb.WatchResponse;
import io.vetcd.watch.Outgoing;
import io.vetcd.watch.WatchHub;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fans the events of each applied revision out to the watchers of every client stream, and catches
 * up the watchers that are behind (new watchers with an old start revision, slow streams) from the
 * store's history, a bounded batch of revisions at a time.
 */
public final class WatchVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(WatchVerticle.class);
  private static final int HISTORY_BATCH_REVISIONS = 256;
  /** etcd's default --experimental-watch-progress-notify-interval (also what 0 means). */
  public static final long PROGRESS_NOTIFY_INTERVAL_MILLIS_DEFAULT = 10 * 60 * 1000;

  private final WatchHub hub;
  private final Membership membership;
  private final long fragmentBytesMax;
  private final long progressNotifyIntervalMillis;
  private final Map<String, Long> streamIds = new HashMap<>();
  private final Map<Long, String> streamKeys = new HashMap<>();
  private long nextStreamId = 1;
  private long raftTerm;
  private boolean historyInFlight;

  public WatchVerticle(long currentRevision, long compactRevision, Membership membership, long fragmentBytesMax,
      long progressNotifyIntervalMillis) {
    this.hub = new WatchHub(currentRevision, compactRevision);
    this.membership = membership;
    this.fragmentBytesMax = fragmentBytesMax;
    this.progressNotifyIntervalMillis = progressNotifyIntervalMillis > 0 ? progressNotifyIntervalMillis
        : PROGRESS_NOTIFY_INTERVAL_MILLIS_DEFAULT;
  }

  private io.vetcd.metrics.MemberMetrics metrics;
  static final long SLOW_WATCHER_GAUGE_PERIOD_MILLIS = 100;

  @Override
  public Future<?> start() {
    metrics = io.vetcd.metrics.MemberMetrics.of(vertx);
    // a scan of every watcher: on a timer (etcd's own gauge moves every 100 ms), not per revision
    vertx.setPeriodic(SLOW_WATCHER_GAUGE_PERIOD_MILLIS, t -> metrics.slowWatchers = hub.slowWatcherCount());
    vertx.eventBus().localConsumer(Addresses.WATCH, this::onMessage);
    vertx.setPeriodic(progressNotifyIntervalMillis, t -> send(hub.progressNotify()));
    return Future.succeededFuture();
  }

  private void onMessage(Message<Object> message) {
    Object body = message.body();
    if (body instanceof Watches.Revision revision) {
      onRevisions(List.of(revision));
    } else if (body instanceof Watches.Revisions batch) {
      onRevisions(batch.revisions());
    } else if (body instanceof Watches.Compacted compacted) {
      hub.setCompactRevision(compacted.compactRevision());
      send(hub.cancelCompacted());
    } else if (body instanceof Watches.Frame frame) {
      onFrame(frame);
    } else if (body instanceof Watches.Refused refused) {
      send(List.of(new io.vetcd.watch.Outgoing(streamId(refused.streamKey()), refused.refusal(),
          hub.currentRevision())));
    } else if (body instanceof Watches.StreamClosed closed) {
      Long id = streamIds.remove(closed.streamKey());
      if (id != null) {
        streamKeys.remove(id);
        hub.closeStream(id);
      }
    } else if (body instanceof Watches.StreamBlocked blocked) {
      Long id = streamIds.get(blocked.streamKey());
      if (id != null) {
        hub.block(id);
      }
    } else if (body instanceof Watches.StreamDrained drained) {
      Long id = streamIds.get(drained.streamKey());
      if (id != null) {
        send(hub.unblock(id));
      }
    }
    catchUp();
    countWatchers();
  }

  /** After every change to the watchers (a message, or a catch-up answer that canceled some). */
  private void countWatchers() {
    metrics.watchStreams = streamIds.size();
    metrics.watchers = hub.watcherCount();
  }

  private void onRevisions(List<Watches.Revision> applied) {
    List<WatchHub.RevisionEvents> revisions = new java.util.ArrayList<>(applied.size());
    for (Watches.Revision revision : applied) {
      raftTerm = Math.max(raftTerm, revision.raftTerm());
      hub.setCompactRevision(revision.compactRevision());
      revisions.add(new WatchHub.RevisionEvents(revision.revision(), revision.events()));
    }
    send(hub.onRevisions(revisions));
  }

  private long streamId(String streamKey) {
    return streamIds.computeIfAbsent(streamKey, key -> {
      long id = nextStreamId++;
      streamKeys.put(id, key);
      return id;
    });
  }

  private void onFrame(Watches.Frame frame) {
    long streamId = streamId(frame.streamKey());
    WatchRequest request = frame.request();
    switch (request.getRequestUnionCase()) {
      case CREATE_REQUEST -> send(hub.create(streamId, request.getCreateRequest()));
      case CANCEL_REQUEST -> send(hub.cancel(streamId, request.getCancelRequest().getWatchId()));
      case PROGRESS_REQUEST -> send(hub.progress(streamId));
      default -> { }
    }
  }

  private void catchUp() {
    if (historyInFlight) {
      return;
    }
    send(hub.cancelCompacted());
    OptionalLong from = hub.catchUpFrom();
    if (from.isEmpty()) {
      return;
    }
    historyInFlight = true;
    Commands.History request = new Commands.History(from.getAsLong(), hub.currentRevision(), HISTORY_BATCH_REVISIONS);
    vertx.eventBus().<Commands.HistoryResult>request(Addresses.APPLY_HISTORY, request,
        new DeliveryOptions().setSendTimeout(30_000)).onComplete(ar -> {
          historyInFlight = false;
          if (ar.succeeded()) {
            Commands.HistoryResult result = ar.result().body();
            send(hub.onHistory(result.fromRevision(), result.toRevision(), result.events()));
          } else if (ar.cause() instanceof ReplyException e && e.failureCode() == 11) {
            log.debug("history compacted while catching up watchers: {}", e.getMessage());
          } else {
            log.warn("catching up watchers failed: {}", ar.cause().toString());
          }
          if (ar.succeeded()) {
            catchUp();
          } else {
            vertx.setTimer(100, t -> catchUp());
          }
          countWatchers(); // catching up may have canceled watchers the compaction passed
        });
  }

  private ResponseHeader lastHeader;

  /** The header for a revision; a fan-out to many watchers shares one. */
  private ResponseHeader header(long revision) {
    long term = Math.max(raftTerm, io.vetcd.bus.RaftStatus.term(vertx));
    ResponseHeader header = lastHeader;
    if (header == null || header.getRevision() != revision || header.getRaftTerm() != term) {
      header = ResponseHeader.newBuilder().setClusterId(membership.clusterId())
          .setMemberId(membership.localMemberId()).setRevision(revision).setRaftTerm(term).build();
      lastHeader = header;
    }
    return header;
  }

  private void send(List<Outgoing> outgoing) {
    for (Outgoing out : outgoing) {
      String key = streamKeys.get(out.streamId());
      if (key == null) {
        continue;
      }
      metrics.watchEventsSent.add(out.response().getEventsCount());
      ResponseHeader header = header(out.headerRevision());
      WatchResponse response = out.response().toBuilder().setHeader(header).build();
      if (out.fragment() && response.getSerializedSize() >= fragmentBytesMax && response.getEventsCount() > 1) {
        for (WatchResponse fragment : io.vetcd.watch.Fragments.split(response, fragmentBytesMax)) {
          vertx.eventBus().send(Addresses.watchStream(key), fragment);
        }
      } else {
        vertx.eventBus().send(Addresses.watchStream(key), response);
      }
    }
  }
}
