package io.vetcd.linearizability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vetcd.linearizability.History.Cas;
import io.vetcd.linearizability.History.CasOk;
import io.vetcd.linearizability.History.CasValue;
import io.vetcd.linearizability.History.Delete;
import io.vetcd.linearizability.History.DeleteOk;
import io.vetcd.linearizability.History.Get;
import io.vetcd.linearizability.History.GetOk;
import io.vetcd.linearizability.History.Op;
import io.vetcd.linearizability.History.Put;
import io.vetcd.linearizability.History.PutOk;
import io.vetcd.linearizability.LinearizabilityChecker.Result;
import io.vetcd.linearizability.LinearizabilityChecker.Verdict;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Hand-made histories, linearizable and not, and randomized histories of a real atomic store. */
class LinearizabilityCheckerTest {
  static final String K = "k";

  static Result check(History h) {
    return LinearizabilityChecker.check(h);
  }

  static void assertLinearizable(History h) {
    Result r = check(h);
    assertEquals(Verdict.OK, r.verdict(), r::toString);
  }

  static void assertNotLinearizable(History h) {
    Result r = check(h);
    assertEquals(Verdict.ILLEGAL, r.verdict(), r::toString);
  }

  @Test
  void when_operations_are_sequential_and_reads_see_the_last_write_then_linearizable() {
    History h = new History()
        .add(0, new Get(K), 0, 1, new GetOk(null, 0))
        .add(0, new Put(K, "a"), 2, 3, new PutOk(2))
        .add(1, new Get(K), 4, 5, new GetOk("a", 2))
        .add(1, new Put(K, "b"), 6, 7, new PutOk(5))
        .add(0, new Get(K), 8, 9, new GetOk("b", 5))
        .add(0, new Delete(K), 10, 11, new DeleteOk(1, 6))
        .add(1, new Get(K), 12, 13, new GetOk(null, 0));
    assertLinearizable(h);
  }

  @Test
  void when_a_read_overlaps_a_write_then_it_may_see_either_value() {
    History old = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(0, new Put(K, "b"), 2, 10, new PutOk(3))
        .add(1, new Get(K), 3, 4, new GetOk("a", 2))
        .add(1, new Get(K), 5, 6, new GetOk("b", 3));
    assertLinearizable(old);
  }

  @Test
  void when_a_read_sees_a_value_overwritten_before_it_began_then_stale_read() {
    History h = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(0, new Put(K, "b"), 2, 3, new PutOk(3))
        .add(1, new Get(K), 4, 5, new GetOk("a", 2));
    assertNotLinearizable(h);
  }

  @Test
  void when_a_read_sees_new_then_old_then_not_linearizable() {
    History h = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(0, new Put(K, "b"), 2, 20, new PutOk(3))
        .add(1, new Get(K), 3, 4, new GetOk("b", 3))
        .add(2, new Get(K), 5, 6, new GetOk("a", 2));
    assertNotLinearizable(h);
  }

  @Test
  void when_an_acknowledged_write_is_not_seen_by_a_later_read_then_lost_write() {
    History h = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(1, new Get(K), 2, 3, new GetOk(null, 0));
    assertNotLinearizable(h);
  }

  @Test
  void when_a_read_sees_a_value_never_written_then_not_linearizable() {
    History h = new History().add(1, new Get(K), 2, 3, new GetOk("ghost", 7));
    assertNotLinearizable(h);
  }

  @Test
  void when_a_read_names_the_wrong_mod_revision_then_not_linearizable() {
    History h = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(1, new Get(K), 2, 3, new GetOk("a", 4));
    assertNotLinearizable(h);
  }

  @Test
  void when_a_write_with_unknown_outcome_is_seen_later_or_never_then_both_are_linearizable() {
    History seen = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(1, new Put(K, "b"), 2, 0, null) // timed out
        .add(2, new Get(K), 5, 6, new GetOk("b", 9))
        .add(2, new Get(K), 7, 8, new GetOk("b", 9));
    assertLinearizable(seen);
    History never = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(1, new Put(K, "b"), 2, 0, null)
        .add(2, new Get(K), 5, 6, new GetOk("a", 2))
        .add(2, new Get(K), 7, 8, new GetOk("a", 2));
    assertLinearizable(never);
  }

  @Test
  void when_a_write_with_unknown_outcome_is_seen_before_it_was_called_then_not_linearizable() {
    History h = new History()
        .add(2, new Get(K), 0, 1, new GetOk("b", 9))
        .add(1, new Put(K, "b"), 2, 0, null);
    assertNotLinearizable(h);
  }

  @Test
  void when_a_write_with_unknown_outcome_is_seen_then_not_seen_then_not_linearizable() {
    History h = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(1, new Put(K, "b"), 2, 0, null)
        .add(2, new Get(K), 5, 6, new GetOk("b", 9))
        .add(2, new Get(K), 7, 8, new GetOk("a", 2));
    assertNotLinearizable(h);
  }

  @Test
  void when_two_compare_and_sets_on_the_same_revision_both_succeed_then_not_linearizable() {
    History h = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(1, new Cas(K, 2, "b"), 2, 5, CasOk.success(3))
        .add(2, new Cas(K, 2, "c"), 2, 5, CasOk.success(4));
    assertNotLinearizable(h);
  }

  @Test
  void when_one_of_two_racing_compare_and_sets_wins_and_the_other_reads_its_value_then_linearizable() {
    History h = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(1, new Cas(K, 2, "b"), 2, 5, CasOk.success(3))
        .add(2, new Cas(K, 2, "c"), 2, 5, CasOk.failure(3, "b", 3))
        .add(2, new Cas(K, 0, "d"), 6, 7, CasOk.failure(3, "b", 3))
        .add(2, new CasValue(K, "b", "e"), 8, 9, CasOk.success(4))
        .add(1, new CasValue(K, "b", "f"), 10, 11, CasOk.failure(4, "e", 4));
    assertLinearizable(h);
  }

  @Test
  void when_a_compare_and_set_fails_although_the_revision_matched_then_not_linearizable() {
    History h = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(1, new Cas(K, 2, "b"), 2, 3, CasOk.failure(2, "a", 2));
    assertNotLinearizable(h);
    History create = new History().add(1, new Cas(K, 0, "b"), 2, 3, CasOk.failure(1, null, 0));
    assertNotLinearizable(create);
  }

  @Test
  void when_a_compare_and_set_with_unknown_outcome_may_have_succeeded_then_both_futures_are_linearizable() {
    History won = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(1, new Cas(K, 2, "b"), 2, 0, null)
        .add(2, new Get(K), 5, 6, new GetOk("b", 3))
        .add(2, new Cas(K, 3, "c"), 7, 8, CasOk.success(4));
    assertLinearizable(won);
    History lost = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(1, new Cas(K, 2, "b"), 2, 0, null)
        .add(2, new Get(K), 5, 6, new GetOk("a", 2))
        .add(2, new Cas(K, 2, "c"), 7, 8, CasOk.success(4))
        .add(2, new Get(K), 9, 10, new GetOk("c", 4));
    assertLinearizable(lost);
    History twice = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(1, new Cas(K, 2, "b"), 2, 0, null)
        .add(2, new Cas(K, 2, "c"), 3, 4, CasOk.success(4))
        .add(2, new Get(K), 9, 10, new GetOk("b", 5));
    assertNotLinearizable(twice);
  }

  @Test
  void when_a_delete_is_acknowledged_and_a_later_read_sees_the_value_then_not_linearizable() {
    History h = new History()
        .add(0, new Put(K, "a"), 0, 1, new PutOk(2))
        .add(0, new Delete(K), 2, 3, new DeleteOk(1, 3))
        .add(1, new Get(K), 4, 5, new GetOk("a", 2));
    assertNotLinearizable(h);
  }

  @Test
  void when_a_delete_answers_a_revision_not_above_the_keys_mod_revision_then_not_linearizable() {
    // Concurrent: only the order put, delete explains deleted=1, and then the delete's revision is too low.
    History h = new History()
        .add(0, new Put(K, "a"), 0, 10, new PutOk(5))
        .add(1, new Delete(K), 0, 10, new DeleteOk(1, 4))
        .add(2, new Get(K), 11, 12, new GetOk(null, 0));
    assertNotLinearizable(h);
    assertTrue(LinearizabilityChecker.check(h).revisionViolations().isEmpty());
  }

  @Test
  void when_a_write_is_open_only_a_delete_that_deleted_keeps_it_from_being_pruned() {
    List<Op> openDelete = new History()
        .add(0, new Put(K, "a"), 0, 1, null)
        .add(1, new Delete(K), 0, 1, null)
        .add(2, new Get(K), 5, 6, new GetOk(null, 0))
        .operations();
    assertEquals(2, LinearizabilityChecker.withoutUnobservedOpenWrites(openDelete).size(),
        "an open delete needs no earlier write: the unobserved open put goes");
    List<Op> deleted = new History()
        .add(0, new Put(K, "a"), 0, 1, null)
        .add(1, new Delete(K), 2, 3, new DeleteOk(1, 3))
        .operations();
    assertEquals(2, LinearizabilityChecker.withoutUnobservedOpenWrites(deleted).size(),
        "the put may be what the delete deleted");
    assertLinearizable(new History()
        .add(0, new Put(K, "a"), 0, 1, null)
        .add(1, new Delete(K), 2, 3, new DeleteOk(1, 3)));
  }

  @Test
  void when_keys_are_independent_then_each_is_checked_on_its_own() {
    History h = new History()
        .add(0, new Put("x", "a"), 0, 1, new PutOk(2))
        .add(1, new Put("y", "b"), 0, 1, new PutOk(3))
        .add(0, new Get("y"), 2, 3, new GetOk("b", 3))
        .add(1, new Get("x"), 2, 3, new GetOk(null, 0)); // x's put returned before: lost
    Result r = check(h);
    assertEquals(Verdict.ILLEGAL, r.verdict());
    assertEquals(Verdict.OK, r.keys().get(1).verdict(), r::toString);
    assertEquals(Verdict.ILLEGAL, r.keys().get(0).verdict(), r::toString);
  }

  @Test
  void when_two_writes_share_a_revision_or_revisions_go_back_in_time_then_revision_violations() {
    History same = new History()
        .add(0, new Put("x", "a"), 0, 1, new PutOk(2))
        .add(1, new Put("y", "b"), 0, 1, new PutOk(2));
    assertNotLinearizable(same);
    History back = new History()
        .add(0, new Put("x", "a"), 0, 1, new PutOk(5))
        .add(1, new Put("y", "b"), 2, 3, new PutOk(4));
    Result r = check(back);
    assertEquals(Verdict.ILLEGAL, r.verdict());
    assertEquals(1, r.revisionViolations().size(), r::toString);
  }

  @Test
  void when_the_history_is_recorded_live_then_open_calls_count_as_open() {
    long[] now = {0};
    History h = new History(() -> now[0]++);
    h.invoke(0, new Put(K, "a")).ok(new PutOk(2));
    History.Call pending = h.invoke(1, new Put(K, "b")); // never completes
    h.invoke(2, new Get(K)).ok(new GetOk("b", 3));
    h.invoke(2, new Get(K)).failed();
    assertEquals(3, h.operations().size());
    assertTrue(h.operations().stream().anyMatch(Op::open));
    assertLinearizable(h);
    pending.unknown();
    assertLinearizable(h);
    h.invoke(3, new Get(K)); // a read still in flight at the end: no answer to explain
    assertLinearizable(h);
  }

  // ------------------------------------------------------------------ randomized

  /**
   * Clients run operations against a real atomic store: each takes effect at a random point between
   * its call and its return; some answers are lost (open). The history is linearizable by
   * construction; making one read stale breaks it.
   */
  @Test
  void random_histories_of_an_atomic_store_are_linearizable_and_a_stale_read_is_found() {
    for (long seed = 1; seed <= 30; seed++) {
      List<Op> ops = atomicStoreHistory(new Random(seed), 6, 3, seed % 2 == 0 ? 60 : 300, seed % 2 == 0);
      Result r = LinearizabilityChecker.check(ops);
      assertEquals(Verdict.OK, r.verdict(), () -> "seed " + r);
      List<Op> broken = withOneStaleRead(ops, new Random(seed));
      if (broken != null) {
        Result b = LinearizabilityChecker.check(broken);
        assertEquals(Verdict.ILLEGAL, b.verdict(), "seed " + seed + " stale read not found");
      }
    }
  }

  private record Timed(int client, History.Input input, long called, long at, long returned) {}

  /**
   * With deletes, writes with unknown outcome cannot be pruned (a delete may have found their key),
   * and a non-linearizable history costs the search time exponential in them: keep those short.
   */
  static List<Op> atomicStoreHistory(Random random, int clients, int keys, int opsPerClient, boolean deletes) {
    List<Timed> planned = new ArrayList<>();
    int values = 0;
    for (int c = 0; c < clients; c++) {
      long t = random.nextInt(10);
      for (int i = 0; i < opsPerClient; i++) {
        String key = "k" + random.nextInt(keys);
        long called = t + random.nextInt(5);
        long at = called + random.nextInt(20);
        long returned = at + random.nextInt(20);
        int kind = random.nextInt(10);
        History.Input in = kind < 4 ? new Get(key)
            : kind < 7 ? new Put(key, "v" + values++)
            : kind < 9 || !deletes ? new Cas(key, random.nextInt(3) == 0 ? 0 : -1, "v" + values++) // -1: fill in later
            : new Delete(key);
        planned.add(new Timed(c, in, called, at, returned));
        t = returned + 1;
      }
    }
    planned.sort((a, b) -> Long.compare(a.at, b.at));
    // What each client last saw of each key's mod_revision: its compares name those, as real clients do.
    Map<Integer, Map<String, Long>> known = new HashMap<>();
    Map<String, String> value = new HashMap<>();
    Map<String, Long> modRev = new HashMap<>();
    long revision = 1;
    History h = new History();
    for (Timed p : planned) {
      String key = p.input().key();
      History.Input in = p.input();
      History.Output out;
      if (in instanceof Get) {
        out = new GetOk(value.get(key), modRev.getOrDefault(key, 0L));
      } else if (in instanceof Put put) {
        revision++;
        value.put(key, put.value());
        modRev.put(key, revision);
        out = new PutOk(revision);
      } else if (in instanceof Cas cas) {
        long expected = cas.expectedModRevision() == 0 ? 0
            : known.computeIfAbsent(p.client(), c -> new HashMap<>()).getOrDefault(key, 0L);
        in = new Cas(key, expected, cas.value());
        if (modRev.getOrDefault(key, 0L) == expected) {
          revision++;
          value.put(key, cas.value());
          modRev.put(key, revision);
          out = CasOk.success(revision);
        } else {
          out = CasOk.failure(revision, value.get(key), modRev.getOrDefault(key, 0L));
        }
      } else {
        boolean had = value.remove(key) != null;
        modRev.remove(key);
        if (had) {
          revision++;
        }
        out = new DeleteOk(had ? 1 : 0, revision);
      }
      boolean lost = !(in instanceof Get) && random.nextInt(25) == 0;
      Map<String, Long> mine = known.computeIfAbsent(p.client(), c -> new HashMap<>());
      if (lost) {
        mine.remove(key);
      } else if (out instanceof GetOk g) {
        mine.put(key, g.modRevision());
      } else if (out instanceof PutOk w) {
        mine.put(key, w.revision());
      } else if (out instanceof CasOk c) {
        mine.put(key, c.succeeded() ? c.revision() : c.modRevision());
      }
      h.add(p.client(), in, p.called(), p.returned(), lost ? null : out);
    }
    return h.operations();
  }

  /** Replaces one read's answer by a value its key had before a write that returned before the read began. */
  static List<Op> withOneStaleRead(List<Op> ops, Random random) {
    List<Op> sorted = new ArrayList<>(ops);
    sorted.sort((a, b) -> Long.compare(a.called(), b.called()));
    for (int attempt = 0; attempt < 200; attempt++) {
      Op read = sorted.get(random.nextInt(sorted.size()));
      if (!(read.input() instanceof Get) || ((GetOk) read.output()).value() == null) {
        continue;
      }
      String key = read.input().key();
      // An acknowledged put on the key, returned before the read was called, whose value differs
      // and which a later acknowledged put (also returned before the read) overwrote.
      Op older = null;
      for (Op o : sorted) {
        if (o.input() instanceof Put p && p.key().equals(key) && !o.open() && o.returned() < read.called()
            && !p.value().equals(((GetOk) read.output()).value())) {
          older = o;
          break;
        }
      }
      if (older == null) {
        continue;
      }
      Op overwrite = null;
      for (Op o : sorted) {
        if (o.input() instanceof Put && o.input().key().equals(key) && !o.open() && o.called() > older.returned()
            && o.returned() < read.called()) {
          overwrite = o;
        }
      }
      if (overwrite == null) {
        continue;
      }
      List<Op> broken = new ArrayList<>();
      for (Op o : ops) {
        broken.add(o == read ? new Op(o.id(), o.client(), o.input(), o.called(), o.returned(),
            new GetOk(((Put) older.input()).value(), ((PutOk) older.output()).revision())) : o);
      }
      return broken;
    }
    return null;
  }
}
