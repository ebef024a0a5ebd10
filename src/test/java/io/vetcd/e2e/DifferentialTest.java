package io.vetcd.e2e;

import static io.vetcd.e2e.Differ.shape;
import static io.vetcd.e2e.Differ.stdin;
import static io.vetcd.e2e.Differ.step;
import static io.vetcd.e2e.Differ.timed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The same etcdctl script against a fresh real etcd and a fresh member of the target kind
 * ({@code -De2e.target}, default vetcd); normalized outputs must be identical. Each test method uses
 * its own fresh pair so a divergence in one area does not cascade into the others. Full transcripts
 * land in target/e2e-reports/.
 */
class DifferentialTest {

  private static void check(String title, List<Differ.Step> steps) {
    CompletableFuture<Member> ref = CompletableFuture.supplyAsync(() -> Member.start(Member.Kind.ETCD));
    CompletableFuture<Member> cand = CompletableFuture.supplyAsync(() -> Member.start(Member.Kind.target()));
    Member r = null;
    Member c = null;
    try {
      r = ref.join();
      c = cand.join();
      Differ.Outcome o = Differ.compare(title, r, c, steps);
      assertTrue(o.same(), o.report());
    } finally {
      // close whichever started, even if the other failed
      for (CompletableFuture<Member> f : List.of(ref, cand)) {
        try {
          f.join().close();
        } catch (RuntimeException ignored) {
        }
      }
    }
  }

  private static List<Differ.Step> seedKeys() {
    List<Differ.Step> s = new ArrayList<>();
    s.add(step("put a", "put", "a", "1", "-w", "json"));
    s.add(step("put b", "put", "b", "2"));
    s.add(step("put c", "put", "c", "3"));
    s.add(step("put a again with prev-kv", "put", "a", "11", "--prev-kv", "-w", "json"));
    s.add(step("put a again with prev-kv text", "put", "a", "111", "--prev-kv"));
    s.add(step("put foo/1", "put", "foo/1", "x"));
    s.add(step("put foo/2", "put", "foo/2", "z"));
    s.add(step("put foo/3", "put", "foo/3", "y"));
    s.add(step("put fop", "put", "fop", "1"));
    s.add(step("put foo/2 again", "put", "foo/2", "zz"));
    return s;
  }

  @Test
  void kvPutGetDel() {
    List<Differ.Step> s = seedKeys();
    s.add(step("get a", "get", "a", "-w", "json"));
    s.add(step("get a text", "get", "a"));
    s.add(step("get missing", "get", "nope", "-w", "json"));
    s.add(step("get all prefix", "get", "", "--prefix", "-w", "json"));
    s.add(step("get all from-key", "get", "", "--from-key", "-w", "json"));
    s.add(step("get from-key b", "get", "b", "--from-key", "-w", "json"));
    s.add(step("get range a..c", "get", "a", "c", "-w", "json"));
    s.add(step("get range reversed bounds", "get", "c", "a", "-w", "json"));
    s.add(step("get prefix foo", "get", "foo", "--prefix", "-w", "json"));
    s.add(step("get prefix foo/ limit 2 (more)", "get", "foo/", "--prefix", "--limit=2", "-w", "json"));
    s.add(step("get prefix foo/ limit 3 (no more)", "get", "foo/", "--prefix", "--limit=3", "-w", "json"));
    s.add(step("get limit text", "get", "", "--prefix", "--limit=2"));
    s.add(step("sort value desc", "get", "foo/", "--prefix", "--sort-by=VALUE", "--order=DESCEND", "-w", "json"));
    s.add(step("sort value asc", "get", "foo/", "--prefix", "--sort-by=VALUE", "--order=ASCEND", "-w", "json"));
    s.add(step("sort key desc", "get", "", "--prefix", "--sort-by=KEY", "--order=DESCEND", "-w", "json"));
    s.add(step("order desc default sort", "get", "", "--prefix", "--order=DESCEND", "-w", "json"));
    s.add(step("sort modify asc", "get", "", "--prefix", "--sort-by=MODIFY", "--order=ASCEND", "-w", "json"));
    s.add(step("sort modify desc limit 3", "get", "", "--prefix", "--sort-by=MODIFY", "--order=DESCEND", "--limit=3", "-w", "json"));
    s.add(step("sort create desc limit 3", "get", "", "--prefix", "--sort-by=CREATE", "--order=DESCEND", "--limit=3", "-w", "json"));
    s.add(step("sort version desc", "get", "", "--prefix", "--sort-by=VERSION", "--order=DESCEND", "-w", "json"));
    s.add(step("keys-only", "get", "foo", "--prefix", "--keys-only", "-w", "json"));
    s.add(step("keys-only text", "get", "foo", "--prefix", "--keys-only"));
    s.add(step("print-value-only", "get", "foo", "--prefix", "--print-value-only"));
    s.add(step("count-only", "get", "", "--prefix", "--count-only", "-w", "json"));
    s.add(step("count-only limit", "get", "", "--prefix", "--count-only", "--limit=1", "-w", "json"));
    s.add(step("count-only missing", "get", "zzz", "--count-only", "-w", "json"));
    s.add(step("hex", "get", "a", "--hex"));
    s.add(step("serializable", "get", "a", "--consistency=s", "-w", "json"));
    s.add(step("get a --rev=2", "get", "a", "--rev=2", "-w", "json"));
    s.add(step("get all --rev=4", "get", "", "--prefix", "--rev=4", "-w", "json"));
    s.add(step("get a --rev=1 (before creation)", "get", "a", "--rev=1", "-w", "json"));
    s.add(step("get --rev=0 means latest", "get", "a", "--rev=0", "-w", "json"));
    s.add(step("del foo/1 prev-kv", "del", "foo/1", "--prev-kv", "-w", "json"));
    s.add(step("del foo/1 again", "del", "foo/1", "-w", "json"));
    s.add(step("del prefix foo/", "del", "foo/", "--prefix", "--prev-kv", "-w", "json"));
    s.add(step("del text", "del", "b"));
    s.add(step("del range prev-kv text", "del", "foo/", "foo0", "--prev-kv"));
    s.add(step("del from-key fop", "del", "fop", "--from-key", "--prev-kv", "-w", "json"));
    s.add(step("get foo/2 at old rev", "get", "foo/2", "--rev=11", "-w", "json"));
    s.add(step("history of foo/ at rev 10", "get", "foo/", "--prefix", "--rev=10", "-w", "json"));
    s.add(step("put recreate foo/2", "put", "foo/2", "new", "-w", "json"));
    s.add(step("get recreated (version 1, new create_revision)", "get", "foo/2", "-w", "json"));
    s.add(step("del range a..c", "del", "a", "c", "-w", "json"));
    s.add(step("get all after deletes", "get", "", "--prefix", "-w", "json"));
    s.add(step("put ignore-value missing key", "put", "nokey", "--ignore-value"));
    s.add(step("put ignore-lease missing key", "put", "nokey", "v", "--ignore-lease"));
    s.add(step("put ignore-value existing key", "put", "c", "--ignore-value", "-w", "json"));
    s.add(step("get c after ignore-value", "get", "c", "-w", "json"));
    s.add(step("put missing lease", "put", "k", "v", "--lease=1234"));
    s.add(step("put empty key", "put", "", "v"));
    s.add(step("get future rev", "get", "c", "--rev={REV+100}"));
    s.add(step("put binary-ish value", "put", "u", "h\u00e9llo w\u00f6rld"));
    s.add(step("get binary-ish value", "get", "u", "-w", "json"));
    check("kvPutGetDel", s);
  }

  @Test
  void txn() {
    List<Differ.Step> s = seedKeys();
    s.add(stdin("txn value = success", "value(\"a\") = \"111\"\n\nput t1 ok\n\nput t1 fail\n\n", "txn", "-w", "json"));
    s.add(stdin("txn value = failure", "value(\"a\") = \"nope\"\n\nput t2 ok\n\nput t2 fail\nget a\n\n", "txn", "-w", "json"));
    s.add(stdin("txn value = text", "value(\"a\") = \"111\"\n\nget a\nput t3 v\n\nput t3 x\n\n", "txn"));
    s.add(stdin("txn value != and > <",
        "value(\"a\") != \"1\"\nvalue(\"b\") > \"1\"\nvalue(\"c\") < \"4\"\n\nput t4 ok\n\n\n", "txn", "-w", "json"));
    s.add(stdin("txn version compares",
        "version(\"a\") = \"3\"\nversion(\"foo/2\") > \"1\"\n\nget foo --prefix\n\ndel foo --prefix\n\n", "txn", "-w", "json"));
    s.add(stdin("txn version fails", "version(\"a\") = \"2\"\n\nput t5 ok\n\nget a\nget b\n\n", "txn", "-w", "json"));
    s.add(stdin("txn create compares", "create(\"b\") = \"3\"\ncreate(\"a\") < \"3\"\n\nput t6 ok\n\n\n", "txn", "-w", "json"));
    s.add(stdin("txn create missing = 0", "create(\"missing\") = \"0\"\n\nput missing created\n\n\n", "txn", "-w", "json"));
    s.add(stdin("txn create missing again fails", "create(\"missing\") = \"0\"\n\nput missing again\n\nget missing\n\n", "txn", "-w", "json"));
    s.add(stdin("txn mod compares", "mod(\"a\") = \"5\"\nmod(\"c\") > \"1\"\n\nput t7 ok\n\n\n", "txn", "-w", "json"));
    s.add(stdin("txn mod fails", "mod(\"a\") > \"100\"\n\nput t8 ok\n\nput t8 fail\n\n", "txn", "-w", "json"));
    s.add(stdin("txn version of missing key", "version(\"nokey\") = \"0\"\n\nput t9 ok\n\n\n", "txn", "-w", "json"));
    s.add(stdin("txn value of missing key fails", "value(\"nokey\") = \"\"\n\nput t10 ok\n\nput t10 fail\n\n", "txn", "-w", "json"));
    s.add(stdin("txn mixed ops with range/prev-kv",
        "version(\"a\") > \"0\"\n\nget a c\nget foo/ --prefix --limit=1\ndel t --prefix --prev-kv\nput z 1 --prev-kv\n\n\n",
        "txn", "-w", "json"));
    s.add(stdin("txn empty compares", "\nput e1 1\nput e2 2\n\nput e3 3\n\n", "txn", "-w", "json"));
    s.add(stdin("txn all empty", "\n\n\n", "txn", "-w", "json"));
    s.add(stdin("txn interactive -i", "value(\"z\") = \"1\"\n\nput z 2\n\nput z 3\n\n", "txn", "-i"));
    s.add(stdin("txn interactive -i failure", "value(\"z\") = \"1\"\n\nput z 4\n\nget z\n\n", "txn", "-i"));
    s.add(stdin("txn duplicate key", "\nput d 1\nput d 2\n\n\n", "txn"));
    s.add(stdin("txn put+del same key", "\nput d 1\ndel d\n\n\n", "txn"));
    s.add(stdin("txn dup key across branches ok", "\nput d 1\n\nput d 2\n\n", "txn", "-w", "json"));
    s.add(stdin("txn put missing lease", "\nput l 1 --lease=1234\n\n\n", "txn"));
    s.add(step("get all after txns", "get", "", "--prefix", "-w", "json"));
    check("txn", s);
  }

  @Test
  void leases() {
    List<Differ.Step> s = new ArrayList<>();
    s.add(step("grant L1 json", "lease", "grant", "100", "-w", "json"));
    s.add(step("grant L2 text", "lease", "grant", "200"));
    s.add(step("grant too large", "lease", "grant", "9000000001"));
    s.add(step("put lk1 on L1", "put", "lk1", "v1", "--lease={L1}"));
    s.add(step("put lk2 on L1", "put", "lk2", "v2", "--lease={L1}", "-w", "json"));
    s.add(step("put lk3 on L2", "put", "lk3", "v3", "--lease={L2}"));
    s.add(step("get lk prefix shows lease", "get", "lk", "--prefix", "-w", "json"));
    s.add(step("timetolive L1 keys json", "lease", "timetolive", "{L1}", "--keys", "-w", "json"));
    s.add(step("timetolive L1 keys text", "lease", "timetolive", "{L1}", "--keys"));
    s.add(step("timetolive L2 no keys", "lease", "timetolive", "{L2}", "-w", "json"));
    s.add(step("timetolive L2 text", "lease", "timetolive", "{L2}"));
    s.add(step("list json", "lease", "list", "-w", "json"));
    s.add(step("keep-alive once L2", "lease", "keep-alive", "--once", "{L2}"));
    s.add(step("put ignore-lease keeps lease", "put", "lk3", "v3b", "--ignore-lease"));
    s.add(step("get lk3 lease kept", "get", "lk3", "-w", "json"));
    s.add(step("move lk3 to no lease", "put", "lk3", "v3c"));
    s.add(step("timetolive L2 after detach", "lease", "timetolive", "{L2}", "--keys", "-w", "json"));
    s.add(step("revoke L1", "lease", "revoke", "{L1}"));
    s.add(step("keys of L1 gone", "get", "lk", "--prefix", "-w", "json"));
    s.add(step("timetolive revoked json", "lease", "timetolive", "{L1}", "-w", "json"));
    s.add(step("timetolive revoked text", "lease", "timetolive", "{L1}"));
    s.add(step("revoke again", "lease", "revoke", "{L1}"));
    s.add(step("revoke unknown", "lease", "revoke", "1234"));
    s.add(step("keep-alive unknown", "lease", "keep-alive", "--once", "1234"));
    s.add(step("timetolive unknown", "lease", "timetolive", "1234", "-w", "json"));
    s.add(step("put with revoked lease", "put", "x", "y", "--lease={L1}"));
    s.add(step("list after revoke", "lease", "list", "-w", "json"));
    s.add(step("list text after revoke", "lease", "list"));
    s.add(stdin("txn put with lease", "\nput tl 1 --lease={L2}\n\n\n", "txn", "-w", "json"));
    s.add(step("revoke L2 deletes nothing now but txn key", "lease", "revoke", "{L2}"));
    s.add(step("final state", "get", "", "--prefix", "-w", "json"));
    // last, because a 2 s lease expires on its own while the script runs
    s.add(step("grant L3 ttl 0 raised to min", "lease", "grant", "0"));
    check("leases", s);
  }

  @Test
  void compactionAndWatch() {
    List<Differ.Step> s = seedKeys();
    s.add(step("del c", "del", "c"));
    s.add(step("put c again", "put", "c", "33"));
    s.add(stdin("txn writes two keys in one revision", "\nput x1 1\nput x2 2\ndel b\n\n\n", "txn"));
    // watch history replay before compaction
    s.add(timed("watch --rev=2 all text", "watch", "--rev=2", "--prefix", ""));
    s.add(timed("watch --rev=3 range a..foo/2 json", "watch", "--rev=3", "a", "foo/2", "-w", "json"));
    s.add(timed("watch --rev=5 prefix foo prev-kv", "watch", "--rev=5", "--prefix", "foo", "--prev-kv"));
    s.add(timed("watch --rev=1 key c", "watch", "--rev=1", "c"));
    s.add(timed("watch --rev=1 key c prev-kv json", "watch", "--rev=1", "c", "--prev-kv", "-w", "json"));
    s.add(timed("watch --rev=1 prefix x (same-revision events)", "watch", "--rev=1", "--prefix", "x", "-w", "json"));
    s.add(timed("watch --rev=1 key b prev-kv text (delete in txn)", "watch", "--rev=1", "b", "--prev-kv"));
    s.add(timed("watch future rev", "watch", "--rev={REV+5}", "a"));
    // compaction
    s.add(step("compaction REV-4", "compaction", "{REV-4}"));
    s.add(step("get at compacted-1", "get", "a", "--rev={CREV-1}"));
    s.add(step("get at compacted", "get", "", "--prefix", "--rev={CREV}", "-w", "json"));
    s.add(step("get at compacted+1", "get", "", "--prefix", "--rev={CREV+1}", "-w", "json"));
    s.add(step("get future", "get", "a", "--rev={REV+1}"));
    s.add(step("header reflects compact", "get", "a", "-w", "json"));
    s.add(step("compaction same rev again", "compaction", "{CREV}"));
    s.add(step("compaction older rev", "compaction", "{CREV-2}"));
    s.add(step("compaction future", "compaction", "{REV+10}"));
    s.add(timed("watch compacted rev", "watch", "--rev={CREV-1}", "a"));
    s.add(timed("watch compacted rev json", "watch", "--rev={CREV-1}", "--prefix", "", "-w", "json"));
    s.add(timed("watch at compacted rev", "watch", "--rev={CREV}", "--prefix", ""));
    s.add(step("compaction physical to current", "compaction", "--physical", "{REV}"));
    s.add(step("get current after full compaction", "get", "", "--prefix", "-w", "json"));
    s.add(step("get rev just before", "get", "a", "--rev={CREV-1}"));
    s.add(step("put after compaction", "put", "after", "1", "-w", "json"));
    s.add(timed("watch from compact point", "watch", "--rev={CREV}", "--prefix", ""));
    check("compactionAndWatch", s);
  }

  /** raftTerm, raftIndex and raftAppliedIndex of {@code endpoint status}, and the header's raft_term of a get. */
  private static String raftPosition(Member m) {
    Object status = Json.parse(m.etcdctl().run("endpoint", "status", "-w", "json").assertOk().stdout());
    Object s = Json.at(((List<?>) status).get(0), "Status");
    Object get = Json.parse(m.etcdctl().run("get", "a", "-w", "json").assertOk().stdout());
    return "term " + Json.at(s, "raftTerm") + " index " + Json.at(s, "raftIndex") + " applied "
        + Json.at(s, "raftAppliedIndex") + " header term " + Json.at(get, "header", "raft_term");
  }

  @Test
  void a_new_member_has_etcds_raft_term_and_index() throws Exception {
    CompletableFuture<Member> ref = CompletableFuture.supplyAsync(() -> Member.start(Member.Kind.ETCD));
    CompletableFuture<Member> cand = CompletableFuture.supplyAsync(() -> Member.start(Member.Kind.target()));
    try (Member r = ref.join(); Member c = cand.join()) {
      String expected = raftPosition(r);
      String actual = raftPosition(c);
      // etcd's leader sets the cluster version shortly after it starts: wait until it has
      for (int i = 0; i < 50 && !expected.equals(actual); i++) {
        Thread.sleep(200);
        expected = raftPosition(r);
        actual = raftPosition(c);
      }
      assertEquals(expected, actual);
      r.etcdctl().run("put", "a", "1").assertOk();
      c.etcdctl().run("put", "a", "1").assertOk();
      assertEquals(raftPosition(r), raftPosition(c));
    }
  }

  @Test
  void clusterShapes() {
    List<Differ.Step> s = new ArrayList<>();
    s.add(step("put", "put", "a", "1"));
    s.add(shape("endpoint status json shape", "endpoint", "status", "-w", "json"));
    s.add(shape("member list json shape", "member", "list", "-w", "json"));
    s.add(shape("endpoint hashkv json shape", "endpoint", "hashkv", "-w", "json"));
    // --cluster dials each member by its client URL: grpc-go sends ":authority: http://host:port"
    s.add(shape("endpoint status --cluster json shape", "endpoint", "status", "--cluster", "-w", "json"));
    s.add(shape("endpoint hashkv --cluster json shape", "endpoint", "hashkv", "--cluster", "-w", "json"));
    s.add(step("defrag --cluster", "defrag", "--cluster"));
    check("clusterShapes", s);
  }
}
