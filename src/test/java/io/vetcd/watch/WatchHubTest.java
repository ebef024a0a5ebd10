package io.vetcd.watch;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import io.vetcd.pb.Event;
import io.vetcd.pb.KeyValue;
import io.vetcd.pb.WatchCreateRequest;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class WatchHubTest {
  static ByteString k(String s) {
    return ByteString.copyFromUtf8(s);
  }

  static Event put(String key, long rev) {
    return Event.newBuilder().setType(Event.EventType.PUT)
        .setKv(KeyValue.newBuilder().setKey(k(key)).setModRevision(rev).setValue(k("v" + rev))).build();
  }

  @Test
  void created_watcher_gets_live_events_of_its_key_only() {
    WatchHub hub = new WatchHub(5, 0);
    List<Outgoing> created = hub.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).build());
    assertTrue(created.get(0).response().getCreated());
    assertEquals(0, created.get(0).response().getWatchId());
    assertEquals(List.of(), hub.onRevision(6, List.of(put("b", 6))));
    List<Outgoing> out = hub.onRevision(7, List.of(put("a", 7)));
    assertEquals(1, out.size());
    assertEquals(7, out.get(0).response().getEvents(0).getKv().getModRevision());
  }

  @Test
  void revisions_applied_together_reach_each_watcher_in_one_ordered_response() {
    WatchHub hub = new WatchHub(5, 0);
    hub.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).setRangeEnd(k("b")).build());
    hub.create(2, WatchCreateRequest.newBuilder().setKey(k("b")).build());
    // a watcher whose start revision falls inside the batch sees only what follows it
    hub.create(3, WatchCreateRequest.newBuilder().setKey(k("a")).setRangeEnd(k("b")).setStartRevision(8).build());
    List<Outgoing> out = hub.onRevisions(List.of(
        new WatchHub.RevisionEvents(6, List.of(put("a1", 6))),
        new WatchHub.RevisionEvents(7, List.of(put("b", 7))),
        new WatchHub.RevisionEvents(8, List.of(put("a2", 8), put("a3", 8))),
        new WatchHub.RevisionEvents(9, List.of(put("zz", 9)))));
    assertEquals(3, out.size());
    Outgoing first = out.stream().filter(o -> o.streamId() == 1).findFirst().orElseThrow();
    assertEquals(List.of(6L, 8L, 8L), first.response().getEventsList().stream().map(e -> e.getKv().getModRevision()).toList());
    assertEquals(9, first.headerRevision());
    Outgoing second = out.stream().filter(o -> o.streamId() == 2).findFirst().orElseThrow();
    assertEquals(List.of(7L), second.response().getEventsList().stream().map(e -> e.getKv().getModRevision()).toList());
    Outgoing third = out.stream().filter(o -> o.streamId() == 3).findFirst().orElseThrow();
    assertEquals(List.of(8L, 8L), third.response().getEventsList().stream().map(e -> e.getKv().getModRevision()).toList());
    // every watcher is synced past the batch: the next revision reaches it live
    assertEquals(OptionalLong.empty(), hub.catchUpFrom());
    assertEquals(2, hub.onRevision(10, List.of(put("a4", 10))).size());
  }

  @Test
  void watcher_from_old_revision_is_caught_up_from_history_then_synced() {
    WatchHub hub = new WatchHub(10, 0);
    hub.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).setRangeEnd(k("b")).setStartRevision(8).build());
    assertEquals(OptionalLong.of(8), hub.catchUpFrom());
    assertEquals(1, hub.slowWatcherCount(), "behind the current revision: unsynced");
    List<Outgoing> out = hub.onHistory(8, 10, List.of(put("a1", 8), put("zz", 9), put("a2", 10)));
    assertEquals(2, out.get(0).response().getEventsCount());
    assertEquals(OptionalLong.empty(), hub.catchUpFrom());
    assertEquals(0, hub.slowWatcherCount());
    assertEquals(1, hub.onRevision(11, List.of(put("a3", 11))).size());
  }

  @Test
  void blocked_stream_receives_nothing_and_catches_up_after_drain() {
    WatchHub hub = new WatchHub(1, 0);
    hub.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).build());
    assertEquals(0, hub.slowWatcherCount());
    hub.block(1);
    assertEquals(1, hub.slowWatcherCount(), "a stream that reads too slowly holds slow watchers");
    assertEquals(List.of(), hub.onRevision(2, List.of(put("a", 2))));
    assertEquals(OptionalLong.empty(), hub.catchUpFrom(), "a blocked stream is not caught up yet");
    hub.unblock(1);
    assertEquals(OptionalLong.of(2), hub.catchUpFrom());
    assertEquals(1, hub.onHistory(2, 2, List.of(put("a", 2))).size());
    assertEquals(1, hub.onRevision(3, List.of(put("a", 3))).size());
  }

  @Test
  void watch_from_compacted_revision_is_canceled_with_compact_revision() {
    WatchHub hub = new WatchHub(20, 15);
    List<Outgoing> out = hub.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).setStartRevision(3).build());
    assertTrue(out.get(0).response().getCreated());
    assertTrue(out.get(1).response().getCanceled());
    assertEquals(15, out.get(1).response().getCompactRevision());
    assertEquals(20, out.get(0).headerRevision(), "created: the current revision");
    assertEquals(0, out.get(1).headerRevision(), "as etcd, the cancellation's header has no revision");
    assertEquals(0, hub.watcherCount());
  }

  @Test
  void duplicate_client_watch_id_is_refused_and_filters_apply() {
    WatchHub hub = new WatchHub(1, 0);
    hub.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).setWatchId(5)
        .addFilters(WatchCreateRequest.FilterType.NOPUT).build());
    List<Outgoing> dup = hub.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).setWatchId(5).build());
    assertTrue(dup.get(0).response().getCanceled());
    assertEquals(List.of(), hub.onRevision(2, List.of(put("a", 2))), "NOPUT filters puts");
    assertEquals(1, hub.cancel(1, 5).size());
    assertEquals(0, hub.watcherCount());
  }

  @Test
  void progress_notify_reaches_only_synced_watchers_that_asked_for_it() {
    WatchHub hub = new WatchHub(4, 0);
    hub.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).setProgressNotify(true).build());
    hub.create(1, WatchCreateRequest.newBuilder().setKey(k("b")).build());
    hub.create(2, WatchCreateRequest.newBuilder().setKey(k("c")).setProgressNotify(true).setStartRevision(2).build());
    List<Outgoing> out = hub.progressNotify();
    assertEquals(1, out.size(), "the unsynced watcher on stream 2 must not be told it is up to date");
    assertEquals(0, out.get(0).response().getWatchId());
    assertEquals(0, out.get(0).response().getEventsCount());
    assertEquals(4, out.get(0).headerRevision());
  }

  @Test
  void progress_request_is_answered_at_once_when_every_watcher_of_the_stream_is_synced() {
    WatchHub hub = new WatchHub(4, 0);
    hub.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).build());
    List<Outgoing> out = hub.progress(1);
    assertEquals(1, out.size());
    assertEquals(-1, out.get(0).response().getWatchId());
    assertEquals(4, out.get(0).headerRevision());
    assertEquals(1, hub.progress(7).size(), "a stream with no watchers is synced");
  }

  /**
   * Regression: a progress request on a stream whose watcher was still catching up from history was
   * answered at once with the current revision, a bookmark past events not sent yet (the fault test
   * saw a progress notification at revision 854 before the event of revision 257); a client resuming
   * from it skips them. The answer now waits until the watcher is synced, and follows its events.
   */
  @Test
  void progress_request_waits_until_the_watchers_of_the_stream_caught_up_from_history() {
    WatchHub hub = new WatchHub(10, 0);
    hub.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).setRangeEnd(k("b")).setStartRevision(2).build());
    assertEquals(List.of(), hub.progress(1), "not synced: no bookmark yet");
    assertEquals(List.of(), hub.onRevision(11, List.of(put("a1", 11))), "still behind");
    List<Outgoing> history = hub.onHistory(2, 6, List.of(put("a2", 2), put("a6", 6)));
    assertEquals(1, history.size(), "caught up to 6 only: still no bookmark");
    List<Outgoing> rest = hub.onHistory(7, 11, List.of(put("a9", 9), put("a1", 11)));
    assertEquals(2, rest.size(), rest::toString);
    assertEquals(2, rest.get(0).response().getEventsCount());
    assertEquals(0, rest.get(1).response().getEventsCount(), "the progress answer comes after the events");
    assertEquals(-1, rest.get(1).response().getWatchId());
    assertEquals(11, rest.get(1).headerRevision());
    assertEquals(List.of(), hub.onRevision(12, List.of(put("zz", 12))), "answered once");
  }

  @Test
  void progress_request_on_a_blocked_stream_waits_until_it_drained_and_caught_up() {
    WatchHub hub = new WatchHub(1, 0);
    hub.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).build());
    hub.block(1);
    assertEquals(List.of(), hub.progress(1));
    assertEquals(List.of(), hub.onRevision(2, List.of(put("a", 2))));
    assertEquals(List.of(), hub.unblock(1), "drained, but revision 2 is not sent yet");
    List<Outgoing> out = hub.onHistory(2, 2, List.of(put("a", 2)));
    assertEquals(2, out.size());
    assertEquals(2, out.get(1).headerRevision());
    assertEquals(0, out.get(1).response().getEventsCount());

    WatchHub idle = new WatchHub(1, 0);
    idle.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).build());
    idle.block(1);
    assertEquals(List.of(), idle.progress(1));
    assertEquals(1, idle.unblock(1).size(), "nothing was missed while blocked: answered on drain");
  }

  @Test
  void a_watch_on_an_empty_range_is_refused_as_etcd_refuses_it() {
    WatchHub hub = new WatchHub(3, 2);
    for (WatchCreateRequest empty : List.of(
        WatchCreateRequest.newBuilder().setKey(k("m")).setRangeEnd(k("a")).build(),
        WatchCreateRequest.newBuilder().setKey(k("q")).setRangeEnd(k("q")).build(),
        // the range check comes before the compaction check
        WatchCreateRequest.newBuilder().setKey(k("m")).setRangeEnd(k("a")).setStartRevision(1).build())) {
      List<Outgoing> out = hub.create(1, empty);
      assertEquals(1, out.size());
      assertEquals(-1, out.get(0).response().getWatchId());
      assertTrue(out.get(0).response().getCreated());
      assertTrue(out.get(0).response().getCanceled());
      assertEquals("mvcc: watcher range is empty", out.get(0).response().getCancelReason());
    }
    assertEquals(0, hub.watcherCount());
    // "\0" as range end means every key from the key: not empty
    List<Outgoing> fromKey = hub.create(1, WatchCreateRequest.newBuilder().setKey(k("m"))
        .setRangeEnd(ByteString.copyFrom(new byte[] {0})).build());
    assertEquals(0, fromKey.get(0).response().getWatchId(), "the refused watches used up no id");
    assertFalse(fromKey.get(0).response().getCanceled());
  }

  @Test
  void a_negative_start_revision_is_before_all_history() {
    WatchHub replaying = new WatchHub(5, 0);
    replaying.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).setStartRevision(-1).build());
    assertEquals(OptionalLong.of(1), replaying.catchUpFrom(), "replays history from the start");
    WatchHub compacted = new WatchHub(5, 3);
    List<Outgoing> out = compacted.create(1, WatchCreateRequest.newBuilder().setKey(k("a")).setStartRevision(-1).build());
    assertEquals(2, out.size());
    assertEquals(3, out.get(1).response().getCompactRevision());
  }

  @Test
  void large_response_is_split_into_fragments_keeping_every_event_in_order() {
    io.vetcd.pb.WatchResponse.Builder big = io.vetcd.pb.WatchResponse.newBuilder().setWatchId(3);
    for (int i = 0; i < 10; i++) {
      big.addEvents(Event.newBuilder().setKv(KeyValue.newBuilder().setKey(k("k" + i))
          .setValue(ByteString.copyFrom(new byte[1000])).setModRevision(7)));
    }
    List<io.vetcd.pb.WatchResponse> pieces = Fragments.split(big.build(), 2500);
    assertTrue(pieces.size() > 3);
    assertEquals(10, pieces.stream().mapToInt(io.vetcd.pb.WatchResponse::getEventsCount).sum());
    for (int i = 0; i < pieces.size(); i++) {
      assertEquals(i < pieces.size() - 1, pieces.get(i).getFragment());
      assertEquals(3, pieces.get(i).getWatchId());
    }
    assertEquals("k9", pieces.get(pieces.size() - 1).getEvents(pieces.get(pieces.size() - 1).getEventsCount() - 1)
        .getKv().getKey().toStringUtf8());
  }

  @Test
  void fragments_follow_etcds_size_rule() {
    io.vetcd.pb.WatchResponse.Builder big = io.vetcd.pb.WatchResponse.newBuilder().setWatchId(3);
    for (int i = 0; i < 4; i++) {
      big.addEvents(Event.newBuilder().setKv(KeyValue.newBuilder().setKey(k("k" + i))
          .setValue(ByteString.copyFrom(new byte[1000])).setModRevision(7)));
    }
    io.vetcd.pb.WatchResponse whole = big.build();
    int eventBytes = com.google.protobuf.CodedOutputStream.computeMessageSize(
        io.vetcd.pb.WatchResponse.EVENTS_FIELD_NUMBER, whole.getEvents(0));
    int emptyBytes = whole.toBuilder().clearEvents().setFragment(true).build().getSerializedSize();
    // a piece takes an event while it stays strictly below the limit
    List<io.vetcd.pb.WatchResponse> pieces = Fragments.split(whole, emptyBytes + 2L * eventBytes + 1);
    assertEquals(List.of(2, 2), pieces.stream().map(io.vetcd.pb.WatchResponse::getEventsCount).toList());
    pieces = Fragments.split(whole, emptyBytes + 2L * eventBytes);
    assertEquals(List.of(1, 1, 1, 1), pieces.stream().map(io.vetcd.pb.WatchResponse::getEventsCount).toList());
  }
}
