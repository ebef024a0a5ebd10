package io.vetcd.linearizability;

import io.vetcd.linearizability.History.CasOk;
import io.vetcd.linearizability.History.DeleteOk;
import io.vetcd.linearizability.History.GetOk;
import io.vetcd.linearizability.History.Op;
import io.vetcd.linearizability.History.PutOk;
import io.vetcd.pb.Event;
import io.vetcd.pb.KeyValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks what watch streams delivered against etcd's watch guarantees (etcd's api_guarantees: ordered,
 * unique, reliable, atomic, resumable, bookmarkable), given the reference history of the watched
 * range: every event of every revision, in order, as a full-history watch from revision 1 on a
 * healthy member reads it at the end.
 *
 * <p>A {@link Stream} is one watcher as its user sees it: a sequence of {@link Session}s (one watch
 * stream each, the later ones resuming where the earlier ones stopped), each a sequence of
 * {@link Response}s as they came off the wire. A watcher whose responses are not visible (a client
 * library that hands out single events) is one session of one response holding all its events: the
 * checks that need response boundaries then hold trivially.
 *
 * <p>Every check returns its first violation as a readable sentence, or null.
 */
public final class WatchGuarantees {
  private WatchGuarantees() {}

  /** One watch response: its header revision, whether it was a progress notification, its events. */
  public record Response(long headerRevision, boolean progress, List<Event> events) {
    public static Response events(long headerRevision, List<Event> events) {
      return new Response(headerRevision, false, List.copyOf(events));
    }

    public static Response progress(long headerRevision) {
      return new Response(headerRevision, true, List.of());
    }
  }

  /** One watch stream on one member, created with start revision {@code startRevision}. */
  public record Session(String member, long startRevision, List<Response> responses) {}

  /** A watcher: its sessions in the order they ran. */
  public record Stream(String name, List<Session> sessions) {
    /** A watcher seen only as a sequence of events from {@code startRevision}. */
    public static Stream ofEvents(String name, long startRevision, List<Event> events) {
      return new Stream(name, List.of(new Session("any", startRevision,
          List.of(Response.events(Long.MAX_VALUE, events)))));
    }

    public long startRevision() {
      return sessions.isEmpty() ? 0 : sessions.get(0).startRevision();
    }

    public List<Event> events() {
      List<Event> all = new ArrayList<>();
      for (Session s : sessions) {
        for (Response r : s.responses()) {
          all.addAll(r.events());
        }
      }
      return all;
    }

    /** The revision of the last event delivered (0 if none). */
    public long lastRevision() {
      List<Event> all = events();
      return all.isEmpty() ? 0 : rev(all.get(all.size() - 1));
    }
  }

  // ------------------------------------------------------------------ the reference history

  /**
   * The reference history itself: revisions never go back, and (when every write of the run is in
   * the watched range) every revision from 2 to {@code lastRevision} has events: a gap would be a
   * write lost from history.
   */
  public static String checkHistoryIsContiguous(List<Event> history, long lastRevision) {
    long expected = 2;
    for (int i = 0; i < history.size(); i++) {
      long rev = rev(history.get(i));
      if (rev == expected - 1 && i > 0) {
        continue; // another event of the same revision
      }
      if (rev != expected) {
        return "the history jumps from revision " + (expected - 1) + " to " + rev + " at event " + i + ": "
            + show(history.get(i));
      }
      expected++;
    }
    if (expected - 1 != lastRevision) {
      return "the history ends at revision " + (expected - 1) + " but the store is at " + lastRevision;
    }
    return null;
  }

  /** Two members' histories are the same, event by event. */
  public static String checkSameHistory(String a, List<Event> historyA, String b, List<Event> historyB) {
    for (int i = 0; i < Math.min(historyA.size(), historyB.size()); i++) {
      if (!historyA.get(i).equals(historyB.get(i))) {
        return "event " + i + " differs: " + a + " has " + show(historyA.get(i)) + ", " + b + " has "
            + show(historyB.get(i));
      }
    }
    if (historyA.size() != historyB.size()) {
      return a + " has " + historyA.size() + " events, " + b + " has " + historyB.size();
    }
    return null;
  }

  /**
   * Every acknowledged write is in the history at its revision (a put with its value, a delete that
   * deleted as a DELETE), and every value a read returned is a PUT of the history at the mod_revision
   * the read gave.
   */
  public static String checkAcknowledgedWritesInHistory(List<Op> ops, List<Event> history) {
    Map<String, Event> byRevisionAndKey = new HashMap<>();
    for (Event e : history) {
      byRevisionAndKey.put(rev(e) + " " + key(e), e);
    }
    for (Op op : ops) {
      String key = op.input().key();
      String value = op.input() instanceof History.Put p ? p.value()
          : op.input() instanceof History.Cas c ? c.value()
          : op.input() instanceof History.CasValue c ? c.value() : null;
      if (op.output() instanceof PutOk p) {
        String v = expectPut(byRevisionAndKey, key, value, p.revision());
        if (v != null) {
          return "acknowledged " + op + ": " + v;
        }
      } else if (op.output() instanceof CasOk c && c.succeeded()) {
        String v = expectPut(byRevisionAndKey, key, value, c.revision());
        if (v != null) {
          return "acknowledged " + op + ": " + v;
        }
      } else if (op.output() instanceof DeleteOk d && d.deleted() > 0) {
        Event e = byRevisionAndKey.get(d.revision() + " " + key);
        if (e == null || e.getType() != Event.EventType.DELETE) {
          return "acknowledged " + op + ": the history has " + (e == null ? "no event of " + key : show(e))
              + " at revision " + d.revision();
        }
      }
      String read = op.output() instanceof GetOk g ? g.value() : op.output() instanceof CasOk c && !c.succeeded()
          ? c.value() : null;
      long readRevision = op.output() instanceof GetOk g ? g.modRevision()
          : op.output() instanceof CasOk c ? c.modRevision() : 0;
      if (read != null) {
        String v = expectPut(byRevisionAndKey, key, read, readRevision);
        if (v != null) {
          return "read " + op + ": " + v;
        }
      }
    }
    return null;
  }

  private static String expectPut(Map<String, Event> byRevisionAndKey, String key, String value, long revision) {
    Event e = byRevisionAndKey.get(revision + " " + key);
    if (e == null || e.getType() != Event.EventType.PUT || !e.getKv().getValue().toStringUtf8().equals(value)) {
      return "the history has " + (e == null ? "no event of " + key : show(e)) + " at revision " + revision;
    }
    return null;
  }

  // ------------------------------------------------------------------ the guarantees

  /**
   * Ordered: across the stream's events revisions never go back, the events of one revision come
   * together (once a later revision was delivered the earlier one never reappears), and per key
   * revisions strictly increase.
   */
  public static String checkOrdered(Stream stream) {
    long last = 0;
    Map<String, Long> lastPerKey = new HashMap<>();
    List<Event> events = stream.events();
    for (int i = 0; i < events.size(); i++) {
      Event e = events.get(i);
      if (rev(e) < last) {
        return stream.name() + ": event " + i + " " + show(e) + " comes after revision " + last;
      }
      Long keyLast = lastPerKey.put(key(e), rev(e));
      if (keyLast != null && rev(e) <= keyLast) {
        return stream.name() + ": event " + i + " " + show(e) + " comes after revision " + keyLast + " of that key";
      }
      last = rev(e);
    }
    return null;
  }

  /** Unique: no event (key at revision) is delivered twice, resumes included. */
  public static String checkUnique(Stream stream) {
    Set<String> seen = new HashSet<>();
    List<Event> events = stream.events();
    for (int i = 0; i < events.size(); i++) {
      if (!seen.add(rev(events.get(i)) + " " + key(events.get(i)))) {
        return stream.name() + ": event " + i + " " + show(events.get(i)) + " was delivered before";
      }
    }
    return null;
  }

  /**
   * Reliable: from its start revision up to {@code upTo}, the stream's events are exactly the history's
   * (no gap, nothing extra, same contents), and the stream got that far.
   */
  public static String checkReliable(Stream stream, List<Event> history, long upTo) {
    String v = compareWithHistory(stream.name(), stream.startRevision(), stream.events(), history, upTo);
    if (v != null) {
      return v;
    }
    if (stream.lastRevision() < upTo && !slice(history, stream.startRevision(), upTo).isEmpty()) {
      return stream.name() + ": delivered up to revision " + stream.lastRevision() + " only; the history goes to "
          + upTo;
    }
    return null;
  }

  /**
   * Resumable: every session, on its own, delivers exactly the history from the revision it was
   * started (resumed) at, up to where it stopped; and every resume starts right after what the
   * watcher had seen (its last event, or a later bookmark), so the sessions join without a gap.
   */
  public static String checkResumable(Stream stream, List<Event> history) {
    long seen = 0; // the last revision the watcher knows it has everything of
    for (int s = 0; s < stream.sessions().size(); s++) {
      Session session = stream.sessions().get(s);
      if (s > 0 && session.startRevision() != seen + 1) {
        return stream.name() + ": session " + s + " on " + session.member() + " resumed at revision "
            + session.startRevision() + " after revision " + seen + " was seen";
      }
      seen = Math.max(seen, session.startRevision() - 1);
      List<Event> events = new ArrayList<>();
      for (Response r : session.responses()) {
        events.addAll(r.events());
        for (Event e : r.events()) {
          seen = Math.max(seen, rev(e));
        }
        if (r.progress()) {
          seen = Math.max(seen, r.headerRevision());
        }
      }
      long stop = events.isEmpty() ? session.startRevision() - 1 : rev(events.get(events.size() - 1));
      String v = compareWithHistory(stream.name() + " session " + s + " on " + session.member(),
          session.startRevision(), events, history, stop);
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  /**
   * Atomic: every revision (up to {@code upTo}) in a response has all of its events there (a txn, a
   * lease revoke, is never split).
   */
  public static String checkAtomic(Stream stream, List<Event> history, long upTo) {
    Map<Long, Integer> eventsPerRevision = new HashMap<>();
    for (Event e : history) {
      eventsPerRevision.merge(rev(e), 1, Integer::sum);
    }
    for (int s = 0; s < stream.sessions().size(); s++) {
      List<Response> responses = stream.sessions().get(s).responses();
      for (int i = 0; i < responses.size(); i++) {
        Map<Long, Integer> here = new TreeMap<>();
        for (Event e : responses.get(i).events()) {
          here.merge(rev(e), 1, Integer::sum);
        }
        for (Map.Entry<Long, Integer> r : here.entrySet()) {
          if (r.getKey() > upTo) {
            continue;
          }
          int whole = eventsPerRevision.getOrDefault(r.getKey(), 0);
          if (r.getValue() != whole) {
            return stream.name() + ": response " + i + " of session " + s + " has " + r.getValue() + " of the "
                + whole + " events of revision " + r.getKey() + ": " + showAll(responses.get(i).events());
          }
        }
      }
    }
    return null;
  }

  /**
   * Bookmarkable: a progress notification with header revision H means every event up to H was
   * delivered: the events of the history from the session's start up to H all came before it, and
   * no event after it has a revision at or below H.
   */
  public static String checkBookmarks(Stream stream, List<Event> history) {
    Set<String> delivered = new HashSet<>();
    for (int s = 0; s < stream.sessions().size(); s++) {
      Session session = stream.sessions().get(s);
      long bookmark = 0;
      for (int i = 0; i < session.responses().size(); i++) {
        Response r = session.responses().get(i);
        for (Event e : r.events()) {
          if (rev(e) <= bookmark) {
            return stream.name() + ": session " + s + " got " + show(e) + " after a progress notification at revision "
                + bookmark;
          }
          delivered.add(rev(e) + " " + key(e));
        }
        if (r.progress()) {
          bookmark = Math.max(bookmark, r.headerRevision());
          for (Event e : slice(history, stream.startRevision(), r.headerRevision())) {
            if (!delivered.contains(rev(e) + " " + key(e))) {
              return stream.name() + ": session " + s + " response " + i + " is a progress notification at revision "
                  + r.headerRevision() + " but " + show(e) + " was not delivered before it";
            }
          }
        }
      }
    }
    return null;
  }

  /** How many progress notifications the stream got. */
  public static int bookmarks(Stream stream) {
    int n = 0;
    for (Session s : stream.sessions()) {
      for (Response r : s.responses()) {
        if (r.progress()) {
          n++;
        }
      }
    }
    return n;
  }

  /** Runs every check on the stream; its violations, first ones only, by guarantee. */
  public static Map<String, String> checkAll(Stream stream, List<Event> history, long upTo) {
    Map<String, String> violations = new LinkedHashMap<>();
    put(violations, "ordered", checkOrdered(stream));
    put(violations, "unique", checkUnique(stream));
    put(violations, "reliable", checkReliable(stream, history, upTo));
    put(violations, "resumable", checkResumable(stream, history));
    put(violations, "atomic", checkAtomic(stream, history, upTo));
    put(violations, "bookmarkable", checkBookmarks(stream, history));
    return violations;
  }

  private static void put(Map<String, String> violations, String guarantee, String violation) {
    if (violation != null) {
      violations.put(guarantee, violation);
    }
  }

  // ------------------------------------------------------------------ helpers

  private static String compareWithHistory(String name, long from, List<Event> events, List<Event> history,
      long upTo) {
    List<Event> expected = slice(history, from, upTo);
    List<Event> got = new ArrayList<>();
    for (Event e : events) {
      if (rev(e) <= upTo) {
        got.add(e);
      }
    }
    for (int i = 0; i < Math.min(expected.size(), got.size()); i++) {
      if (!expected.get(i).equals(got.get(i))) {
        return name + " (from revision " + from + "): event " + i + " is " + show(got.get(i)) + ", the history has "
            + show(expected.get(i)) + (i > 0 ? " (after " + show(got.get(i - 1)) + ")" : "");
      }
    }
    if (got.size() < expected.size()) {
      return name + " (from revision " + from + "): " + got.size() + " events up to revision " + upTo
          + ", the history has " + expected.size() + "; first missing: " + show(expected.get(got.size()));
    }
    if (got.size() > expected.size()) {
      return name + " (from revision " + from + "): extra event " + show(got.get(expected.size()))
          + " not in the history";
    }
    return null;
  }

  /** The history's events with {@code from <= revision <= to}. */
  public static List<Event> slice(List<Event> history, long from, long to) {
    List<Event> out = new ArrayList<>();
    for (Event e : history) {
      if (rev(e) >= from && rev(e) <= to) {
        out.add(e);
      }
    }
    return out;
  }

  static long rev(Event e) {
    return e.getKv().getModRevision();
  }

  static String key(Event e) {
    return e.getKv().getKey().toStringUtf8();
  }

  /** An event in one line: {@code PUT lin/a=c1-7 @12 (created 10, version 2, lease 0)}. */
  public static String show(Event e) {
    KeyValue kv = e.getKv();
    if (e.getType() == Event.EventType.DELETE) {
      return "DELETE " + kv.getKey().toStringUtf8() + " @" + kv.getModRevision();
    }
    return "PUT " + kv.getKey().toStringUtf8() + "=" + kv.getValue().toStringUtf8() + " @" + kv.getModRevision()
        + " (created " + kv.getCreateRevision() + ", version " + kv.getVersion()
        + (kv.getLease() != 0 ? ", lease " + Long.toHexString(kv.getLease()) : "") + ")";
  }

  private static String showAll(List<Event> events) {
    List<String> shown = new ArrayList<>();
    for (Event e : events) {
      shown.add(show(e));
    }
    return shown.toString();
  }
}
