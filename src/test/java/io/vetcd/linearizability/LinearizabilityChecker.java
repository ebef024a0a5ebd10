package io.vetcd.linearizability;

import io.vetcd.linearizability.History.Cas;
import io.vetcd.linearizability.History.CasOk;
import io.vetcd.linearizability.History.CasValue;
import io.vetcd.linearizability.History.Delete;
import io.vetcd.linearizability.History.Get;
import io.vetcd.linearizability.History.GetOk;
import io.vetcd.linearizability.History.DeleteOk;
import io.vetcd.linearizability.History.Op;
import io.vetcd.linearizability.History.Put;
import io.vetcd.linearizability.History.PutOk;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Decides whether a {@link History} of single-key operations is linearizable with respect to
 * {@link KvModel}: the Wing–Gong–Lowe search (as in Porcupine and Knossos) with memoisation of
 * (linearized set, model state), run separately for every key (linearizability is local: a history is
 * linearizable iff the sub-history of every object is).
 *
 * <p>The search walks the history's call and return events in time order. At a call it tries to
 * linearize that operation now (if the model accepts its output and the resulting configuration was
 * not explored before) and lifts it out of the event list; at a return of an operation not yet
 * linearized it backtracks. An open operation returns at infinity: it may be linearized anywhere after
 * its call, or (by being left for the end) never.
 *
 * <p>Because one key's model cannot see other keys, {@link #checkRevisions} adds the cross-key check
 * that revisions order writes: every acknowledged write has its own revision, and a write that
 * started after another returned has a greater one.
 */
public final class LinearizabilityChecker {
  /** Per key, the search gives up after this many steps and reports the key as undecided. */
  public static final long STEPS_MAX = 5_000_000L;

  public enum Verdict { OK, ILLEGAL, UNKNOWN }

  /** The verdict for one key; for ILLEGAL, where the deepest attempt got stuck. */
  public record KeyResult(String key, Verdict verdict, int operations, long steps, String explanation) {}

  public record Result(Verdict verdict, List<KeyResult> keys, List<String> revisionViolations) {
    public boolean ok() {
      return verdict == Verdict.OK;
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder("linearizability: " + verdict + "\n");
      for (KeyResult k : keys) {
        sb.append("  key ").append(k.key()).append(": ").append(k.verdict()).append(" (")
            .append(k.operations()).append(" ops, ").append(k.steps()).append(" steps)\n");
        if (k.verdict() != Verdict.OK) {
          sb.append(k.explanation().indent(4));
        }
      }
      for (String v : revisionViolations) {
        sb.append("  revisions: ").append(v).append('\n');
      }
      return sb.toString();
    }
  }

  private LinearizabilityChecker() {}

  /** Checks every key of the history and the revision order of its writes. */
  public static Result check(History history) {
    return check(history.operations());
  }

  public static Result check(List<Op> ops) {
    Map<String, List<Op>> byKey = new TreeMap<>();
    for (Op op : withoutUnobservedOpenWrites(ops)) {
      if (op.open() && op.input() instanceof Get) {
        continue; // a read that never answered has no output to explain and no effect
      }
      byKey.computeIfAbsent(op.input().key(), k -> new ArrayList<>()).add(op);
    }
    List<KeyResult> results = new ArrayList<>();
    Verdict overall = Verdict.OK;
    for (Map.Entry<String, List<Op>> e : byKey.entrySet()) {
      KeyResult r = checkKey(e.getKey(), e.getValue());
      results.add(r);
      if (r.verdict() == Verdict.ILLEGAL || (r.verdict() == Verdict.UNKNOWN && overall == Verdict.OK)) {
        overall = r.verdict();
      }
    }
    List<String> revisionViolations = checkRevisions(ops);
    if (!revisionViolations.isEmpty()) {
      overall = Verdict.ILLEGAL;
    }
    return new Result(overall, results, revisionViolations);
  }

  /**
   * Drops the open writes that nothing observed: a put or compare-and-set with unknown outcome whose
   * (unique) value no read returned and no compare asked for, on a key where every compare names a
   * revision some answer showed and where no delete that answered it deleted the key returned after
   * the write was called (such a delete may need the write to explain it; an open delete needs none:
   * linearized, it leaves the key missing whatever it was). Such a write changes nothing any other
   * operation depends on, so it can be linearized at the very end, and dropping it keeps the verdict.
   * It spares the search from trying it at every point of the history: every open write left in
   * doubles the work of each backtrack after it (etcd's robustness tests prune unobserved failed
   * writes the same way).
   */
  public static List<Op> withoutUnobservedOpenWrites(List<Op> ops) {
    Set<String> observed = new HashSet<>();
    Map<String, Long> lastDeleteReturn = new HashMap<>();
    for (Op op : ops) {
      if (op.output() instanceof GetOk g && g.value() != null) {
        observed.add(g.value());
      } else if (op.output() instanceof CasOk c && !c.succeeded() && c.value() != null) {
        observed.add(c.value());
      }
      if (op.input() instanceof CasValue c && c.expectedValue() != null) {
        observed.add(c.expectedValue());
      } else if (op.input() instanceof Delete && !op.open() && ((DeleteOk) op.output()).deleted() > 0) {
        lastDeleteReturn.merge(op.input().key(), op.returned(), Math::max);
      }
    }
    // A compare on a mod_revision nobody saw may be explained only by an open write: keep them all.
    Map<String, Set<Long>> seenRevisions = new HashMap<>();
    for (Op op : ops) {
      Set<Long> seen = seenRevisions.computeIfAbsent(op.input().key(), k -> new HashSet<>(Set.of(0L)));
      if (op.output() instanceof GetOk g) {
        seen.add(g.modRevision());
      } else if (op.output() instanceof CasOk c) {
        seen.add(c.succeeded() ? c.revision() : c.modRevision());
      } else if (op.output() instanceof PutOk p) {
        seen.add(p.revision());
      }
    }
    Set<String> unprunable = new HashSet<>();
    for (Op op : ops) {
      if (op.input() instanceof Cas c && !seenRevisions.get(c.key()).contains(c.expectedModRevision())) {
        unprunable.add(c.key());
      }
    }
    List<Op> kept = new ArrayList<>();
    for (Op op : ops) {
      String value = op.input() instanceof Put p ? p.value()
          : op.input() instanceof Cas c ? c.value()
          : op.input() instanceof CasValue c ? c.value() : null;
      boolean droppable = op.open() && value != null && !observed.contains(value)
          && !unprunable.contains(op.input().key())
          && lastDeleteReturn.getOrDefault(op.input().key(), Long.MIN_VALUE) < op.called();
      if (!droppable) {
        kept.add(op);
      }
    }
    return kept;
  }

  // ------------------------------------------------------------------ the search

  private static final class Event {
    final Op op;
    final boolean call;
    final int index;
    Event match;
    Event prev;
    Event next;

    Event(Op op, boolean call, int index) {
      this.op = op;
      this.call = call;
      this.index = index;
    }

    long time() {
      return call ? op.called() : op.returned();
    }
  }

  private record Config(BitSet linearized, Set<KvModel.State> states) {}

  private record Frame(Event call, Set<KvModel.State> states) {}

  static KeyResult checkKey(String key, List<Op> ops) {
    List<Event> events = new ArrayList<>();
    for (int i = 0; i < ops.size(); i++) {
      Event call = new Event(ops.get(i), true, i);
      Event ret = new Event(ops.get(i), false, i);
      call.match = ret;
      ret.match = call;
      events.add(call);
      events.add(ret);
    }
    // In time order; at equal times calls first (the operations then count as concurrent).
    events.sort(Comparator.comparingLong(Event::time).thenComparing(e -> !e.call).thenComparingInt(e -> e.index));
    Event head = new Event(null, true, -1);
    Event last = head;
    for (Event e : events) {
      last.next = e;
      e.prev = last;
      last = e;
    }

    Set<KvModel.State> states = KvModel.initial();
    BitSet linearized = new BitSet(ops.size());
    Set<Config> seen = new HashSet<>();
    Deque<Frame> stack = new ArrayDeque<>();
    Event entry = head.next;
    long steps = 0;
    int deepest = -1;
    String stuck = "";
    while (head.next != null) {
      if (++steps > STEPS_MAX) {
        return new KeyResult(key, Verdict.UNKNOWN, ops.size(), steps, "gave up after " + STEPS_MAX + " steps");
      }
      if (entry.call) {
        Set<KvModel.State> next = KvModel.step(states, entry.op.input(), entry.op.output());
        boolean advanced = false;
        if (!next.isEmpty()) {
          BitSet withIt = (BitSet) linearized.clone();
          withIt.set(entry.index);
          if (seen.add(new Config(withIt, next))) {
            stack.push(new Frame(entry, states));
            states = next;
            linearized = withIt;
            lift(entry);
            entry = head.next;
            advanced = true;
          }
        }
        if (!advanced) {
          entry = entry.next;
        }
      } else {
        // The return of an operation not linearized yet: undo the last choice.
        int depth = stack.size();
        if (depth > deepest) {
          deepest = depth;
          stuck = explain(entry.op, states, stack, head);
        }
        if (stack.isEmpty()) {
          return new KeyResult(key, Verdict.ILLEGAL, ops.size(), steps, stuck);
        }
        Frame top = stack.pop();
        states = top.states();
        linearized = (BitSet) linearized.clone();
        linearized.clear(top.call().index);
        unlift(top.call());
        entry = top.call().next;
      }
    }
    return new KeyResult(key, Verdict.OK, ops.size(), steps, "");
  }

  private static void lift(Event call) {
    call.prev.next = call.next;
    if (call.next != null) {
      call.next.prev = call.prev;
    }
    Event ret = call.match;
    ret.prev.next = ret.next;
    if (ret.next != null) {
      ret.next.prev = ret.prev;
    }
  }

  private static void unlift(Event call) {
    Event ret = call.match;
    ret.prev.next = ret;
    if (ret.next != null) {
      ret.next.prev = ret;
    }
    call.prev.next = call;
    if (call.next != null) {
      call.next.prev = call;
    }
  }

  private static String explain(Op stuckOp, Set<KvModel.State> states, Deque<Frame> stack, Event head) {
    StringBuilder sb = new StringBuilder();
    sb.append("longest linearizable prefix: ").append(stack.size()).append(" operations, the last ones:\n");
    List<Frame> frames = new ArrayList<>(stack);
    for (int i = Math.min(frames.size(), 8) - 1; i >= 0; i--) {
      sb.append("  ").append(frames.get(i).call().op).append('\n');
    }
    sb.append("possible states then: ").append(states).append('\n');
    sb.append("no order linearizes: ").append(stuckOp).append('\n');
    sb.append("pending then:\n");
    int shown = 0;
    for (Event e = head.next; e != null && shown < 12; e = e.next) {
      if (e.call) {
        sb.append("  ").append(e.op).append('\n');
        shown++;
      }
    }
    return sb.toString();
  }

  // ------------------------------------------------------------------ revisions across keys

  /**
   * Every acknowledged write (a put, a successful compare-and-set, a delete that deleted) has its own
   * revision, and a write called after another write returned has a greater revision.
   */
  public static List<String> checkRevisions(List<Op> ops) {
    List<String> violations = new ArrayList<>();
    List<Op> writes = new ArrayList<>();
    Map<Long, Op> byRevision = new HashMap<>();
    for (Op op : ops) {
      long rev = writeRevision(op);
      if (rev < 0) {
        continue;
      }
      writes.add(op);
      Op other = byRevision.putIfAbsent(rev, op);
      if (other != null) {
        violations.add("two writes at revision " + rev + ": " + other + " and " + op);
      }
    }
    List<Op> byReturn = new ArrayList<>(writes);
    byReturn.sort(Comparator.comparingLong(Op::returned));
    List<Op> byCall = new ArrayList<>(writes);
    byCall.sort(Comparator.comparingLong(Op::called));
    int r = 0;
    Op highest = null;
    for (Op op : byCall) {
      while (r < byReturn.size() && byReturn.get(r).returned() < op.called()) {
        Op done = byReturn.get(r++);
        if (highest == null || writeRevision(done) > writeRevision(highest)) {
          highest = done;
        }
      }
      if (highest != null && writeRevision(op) <= writeRevision(highest)) {
        violations.add("revision goes back in real time: " + highest + " returned before " + op + " was called");
        if (violations.size() > 20) {
          break;
        }
      }
    }
    return violations;
  }

  /** The revision an acknowledged write made, or -1 if the operation made none (or is open). */
  private static long writeRevision(Op op) {
    if (op.output() instanceof PutOk p) {
      return p.revision();
    } else if (op.output() instanceof CasOk c) {
      return c.succeeded() ? c.revision() : -1;
    } else if (op.output() instanceof DeleteOk d) {
      return d.deleted() > 0 ? d.revision() : -1;
    }
    return -1;
  }
}
