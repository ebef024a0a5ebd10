package io.vetcd.linearizability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vetcd.linearizability.History.Delete;
import io.vetcd.linearizability.History.DeleteOk;
import io.vetcd.linearizability.History.Get;
import io.vetcd.linearizability.History.GetOk;
import io.vetcd.linearizability.History.Put;
import io.vetcd.linearizability.History.PutOk;
import io.vetcd.linearizability.WatchGuarantees.Response;
import io.vetcd.linearizability.WatchGuarantees.Session;
import io.vetcd.linearizability.WatchGuarantees.Stream;
import io.vetcd.pb.Event;
import io.vetcd.pb.KeyValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The watch checks accept what etcd promises and name the first violation of each guarantee. */
class WatchGuaranteesTest {
  // revision 2: put a; 3: put b; 4: txn put a, put c; 5: delete b; 6: put b
  static final Event A2 = put("a", "a1", 2, 2, 1);
  static final Event B3 = put("b", "b1", 3, 3, 1);
  static final Event A4 = put("a", "a2", 4, 2, 2);
  static final Event C4 = put("c", "c1", 4, 4, 1);
  static final Event B5 = delete("b", 5);
  static final Event B6 = put("b", "b2", 6, 6, 1);
  static final List<Event> HISTORY = List.of(A2, B3, A4, C4, B5, B6);

  static Event put(String key, String value, long rev, long created, long version) {
    return Event.newBuilder().setType(Event.EventType.PUT).setKv(KeyValue.newBuilder()
        .setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value)).setModRevision(rev)
        .setCreateRevision(created).setVersion(version)).build();
  }

  static Event delete(String key, long rev) {
    return Event.newBuilder().setType(Event.EventType.DELETE)
        .setKv(KeyValue.newBuilder().setKey(ByteString.copyFromUtf8(key)).setModRevision(rev)).build();
  }

  static Response events(Event... events) {
    return Response.events(6, List.of(events));
  }

  static Stream stream(Session... sessions) {
    return new Stream("w", List.of(sessions));
  }

  static Session session(long start, Response... responses) {
    return new Session("m1", start, List.of(responses));
  }

  @Test
  void a_stream_that_resumes_and_bookmarks_as_etcd_promises_passes_every_check() {
    Stream good = stream(
        session(2, events(A2), events(B3), Response.progress(3)),
        session(4, events(A4, C4), Response.progress(4), events(B5, B6), Response.progress(6)));
    assertEquals(Map.of(), WatchGuarantees.checkAll(good, HISTORY, 6));
    assertEquals(3, WatchGuarantees.bookmarks(good));
    Stream fromMiddle = stream(session(4, events(A4, C4, B5), events(B6)));
    assertEquals(Map.of(), WatchGuarantees.checkAll(fromMiddle, HISTORY, 6));
    Stream client = Stream.ofEvents("client", 3, List.of(B3, A4, C4, B5, B6));
    assertEquals(Map.of(), WatchGuarantees.checkAll(client, HISTORY, 6));
  }

  @Test
  void events_out_of_order_break_ordered() {
    Stream s = stream(session(2, events(A2), events(A4, C4), events(B3), events(B5, B6)));
    String v = WatchGuarantees.checkOrdered(s);
    assertNotNull(v);
    assertTrue(v.contains("PUT b=b1 @3") && v.contains("after revision 4"), v);
  }

  @Test
  void an_event_delivered_twice_across_a_resume_breaks_unique_and_resumable() {
    Stream s = stream(session(2, events(A2), events(B3)), session(3, events(B3), events(A4, C4), events(B5),
        events(B6)));
    String unique = WatchGuarantees.checkUnique(s);
    assertNotNull(unique);
    assertTrue(unique.contains("PUT b=b1 @3") && unique.contains("delivered before"), unique);
    String resumable = WatchGuarantees.checkResumable(s, HISTORY);
    assertNotNull(resumable);
    assertTrue(resumable.contains("resumed at revision 3 after revision 3"), resumable);
  }

  @Test
  void a_gap_breaks_reliable_and_names_the_first_missing_event() {
    Stream s = stream(session(2, events(A2), events(A4, C4), events(B5), events(B6)));
    String v = WatchGuarantees.checkReliable(s, HISTORY, 6);
    assertNotNull(v);
    assertTrue(v.contains("event 1 is PUT a=a2 @4") && v.contains("the history has PUT b=b1 @3"), v);
    Stream stuck = stream(session(2, events(A2), events(B3)));
    String short_ = WatchGuarantees.checkReliable(stuck, HISTORY, 6);
    assertNotNull(short_);
    assertTrue(short_.contains("first missing: PUT a=a2 @4"), short_);
    Stream wrongValue = Stream.ofEvents("client", 6, List.of(put("b", "zz", 6, 6, 1)));
    assertNotNull(WatchGuarantees.checkReliable(wrongValue, HISTORY, 6));
  }

  @Test
  void a_resume_that_starts_too_late_or_a_session_with_a_hole_breaks_resumable() {
    Stream late = stream(session(2, events(A2)), session(4, events(A4, C4), events(B5), events(B6)));
    String v = WatchGuarantees.checkResumable(late, HISTORY);
    assertNotNull(v);
    assertTrue(v.contains("resumed at revision 4 after revision 2"), v);
    Stream hole = stream(session(2, events(A2)), session(3, events(A4, C4)));
    String h = WatchGuarantees.checkResumable(hole, HISTORY);
    assertNotNull(h);
    assertTrue(h.contains("session 1") && h.contains("the history has PUT b=b1 @3"), h);
  }

  @Test
  void a_txn_split_over_two_responses_breaks_atomic() {
    Stream s = stream(session(2, events(A2, B3, A4), events(C4, B5, B6)));
    String v = WatchGuarantees.checkAtomic(s, HISTORY, 6);
    assertNotNull(v);
    assertTrue(v.contains("1 of the 2 events of revision 4"), v);
  }

  @Test
  void a_progress_notification_ahead_of_undelivered_events_breaks_bookmarkable() {
    Stream early = stream(session(2, events(A2), Response.progress(4), events(B3), events(A4, C4)));
    String v = WatchGuarantees.checkBookmarks(early, HISTORY);
    assertNotNull(v);
    assertTrue(v.contains("progress notification at revision 4 but PUT b=b1 @3 (created 3, version 1) was not delivered"), v);
    Stream after = stream(session(4, events(A4, C4), Response.progress(4), events(A4, C4), events(B5, B6)));
    String a = WatchGuarantees.checkBookmarks(after, HISTORY);
    assertNotNull(a);
    assertTrue(a.contains("got PUT a=a2 @4 (created 2, version 2) after a progress notification at revision 4"), a);
  }

  @Test
  void the_history_must_be_contiguous_the_same_everywhere_and_hold_every_acknowledged_write() {
    assertNull(WatchGuarantees.checkHistoryIsContiguous(HISTORY, 6));
    List<Event> gap = new ArrayList<>(HISTORY);
    gap.remove(B3);
    assertTrue(WatchGuarantees.checkHistoryIsContiguous(gap, 6).contains("jumps from revision 2 to 4"));
    assertTrue(WatchGuarantees.checkHistoryIsContiguous(HISTORY, 7).contains("ends at revision 6"));
    assertNull(WatchGuarantees.checkSameHistory("m1", HISTORY, "m2", List.copyOf(HISTORY)));
    assertTrue(WatchGuarantees.checkSameHistory("m1", HISTORY, "m2", gap).contains("event 1 differs"));

    History ok = new History()
        .add(0, new Put("a", "a1"), 0, 1, new PutOk(2))
        .add(1, new Delete("b"), 0, 9, new DeleteOk(1, 5))
        .add(1, new Get("a"), 10, 11, new GetOk("a2", 4));
    assertNull(WatchGuarantees.checkAcknowledgedWritesInHistory(ok.operations(), HISTORY));
    History lost = new History().add(0, new Put("c", "c9"), 0, 1, new PutOk(7));
    assertTrue(WatchGuarantees.checkAcknowledgedWritesInHistory(lost.operations(), HISTORY)
        .contains("no event of c at revision 7"));
    History phantom = new History().add(0, new Get("a"), 0, 1, new GetOk("a9", 4));
    assertTrue(WatchGuarantees.checkAcknowledgedWritesInHistory(phantom.operations(), HISTORY)
        .contains("the history has PUT a=a2 @4"));
  }
}
