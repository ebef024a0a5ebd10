package io.vetcd.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Error paths through etcdctl. Every expectation below (exit code, the "Error: ..." line on stderr,
 * and the gRPC status etcdctl's retry interceptor logs) was recorded from real etcd 3.4.23; run with
 * {@code -De2e.target=etcd} to re-verify them.
 */
class ErrorsTest {

  static Member member;
  static Etcdctl ctl;
  /** Revision passed to the successful compaction in setup. */
  static long compacted;
  /** Revision of the store after setup. */
  static long head;

  @BeforeAll
  static void up() {
    member = Member.start(Member.Kind.target());
    ctl = member.etcdctl();
    for (int i = 1; i <= 5; i++) ctl.run("put", "a", "v" + i).assertOk(); // revisions 2..6
    head = revision();
    compacted = head - 2;
    assertEquals("compacted revision " + compacted + "\n", ctl.run("compaction", Long.toString(compacted)).assertOk().stdout());
  }

  @AfterAll
  static void down() {
    if (member != null) member.close();
  }

  static long revision() {
    return ((Json.Num) Json.at(Json.parse(ctl.run("get", "a", "-w", "json").assertOk().stdout()), "header", "revision")).longValue();
  }

  /**
   * @param grpc expected "rpc error: code = X desc = Y" logged by the client, or null when etcdctl
   *     logs none for this call (streams, client-side errors)
   */
  record Case(String name, String stdin, List<String> args, int exit, String errorLine, String grpc, String stdout) { }

  static Case c(String name, int exit, String errorLine, String grpc, String... args) {
    return new Case(name, null, List.of(args), exit, errorLine, grpc, null);
  }

  static String rpc(String code, String desc) {
    return "rpc error: code = " + code + " desc = " + desc;
  }

  static final String KEY_NOT_PROVIDED = "etcdserver: key is not provided";
  static final String LEASE_NOT_FOUND = "etcdserver: requested lease not found";
  static final String FUTURE = "etcdserver: mvcc: required revision is a future revision";
  static final String COMPACTED = "etcdserver: mvcc: required revision has been compacted";

  @TestFactory
  Stream<DynamicTest> errors() {
    List<Case> cases = new ArrayList<>();
    cases.add(c("put empty key", 1, "Error: " + KEY_NOT_PROVIDED, rpc("InvalidArgument", KEY_NOT_PROVIDED), "put", "", "x"));
    cases.add(c("get empty key", 1, "Error: " + KEY_NOT_PROVIDED, rpc("InvalidArgument", KEY_NOT_PROVIDED), "get", ""));
    cases.add(c("del empty key", 1, "Error: " + KEY_NOT_PROVIDED, rpc("InvalidArgument", KEY_NOT_PROVIDED), "del", ""));
    cases.add(c("del empty key prev-kv", 1, "Error: " + KEY_NOT_PROVIDED, rpc("InvalidArgument", KEY_NOT_PROVIDED), "del", "", "--prev-kv"));
    cases.add(c("put with missing lease", 1, "Error: " + LEASE_NOT_FOUND, rpc("NotFound", LEASE_NOT_FOUND),
        "put", "k", "v", "--lease=1234"));
    cases.add(c("put ignore-value on missing key", 1, "Error: etcdserver: key not found",
        rpc("InvalidArgument", "etcdserver: key not found"), "put", "missing", "--ignore-value"));
    cases.add(c("put ignore-lease on missing key", 1, "Error: etcdserver: key not found",
        rpc("InvalidArgument", "etcdserver: key not found"), "put", "missing", "v", "--ignore-lease"));
    cases.add(c("get future revision", 1, "Error: " + FUTURE, rpc("OutOfRange", FUTURE), "get", "a", "--rev=" + (head + 100)));
    cases.add(c("get head+1 revision", 1, "Error: " + FUTURE, rpc("OutOfRange", FUTURE), "get", "a", "--rev=" + (head + 1)));
    cases.add(c("get compacted revision", 1, "Error: " + COMPACTED, rpc("OutOfRange", COMPACTED),
        "get", "a", "--rev=" + (compacted - 1)));
    cases.add(c("get revision 1 after compaction", 1, "Error: " + COMPACTED, rpc("OutOfRange", COMPACTED), "get", "a", "--rev=1"));
    cases.add(c("compaction at compacted revision", 1, "Error: " + COMPACTED, rpc("OutOfRange", COMPACTED),
        "compaction", Long.toString(compacted)));
    cases.add(c("compaction below compacted revision", 1, "Error: " + COMPACTED, rpc("OutOfRange", COMPACTED),
        "compaction", Long.toString(compacted - 1)));
    cases.add(c("compaction 0", 1, "Error: " + COMPACTED, rpc("OutOfRange", COMPACTED), "compaction", "0"));
    cases.add(c("compaction future", 1, "Error: " + FUTURE, rpc("OutOfRange", FUTURE), "compaction", Long.toString(head + 50)));
    cases.add(c("lease revoke unknown", 1, "Error: failed to revoke lease (" + LEASE_NOT_FOUND + ")",
        rpc("NotFound", LEASE_NOT_FOUND), "lease", "revoke", "1234"));
    cases.add(c("lease keep-alive unknown", 2, "Error: " + LEASE_NOT_FOUND, null, "lease", "keep-alive", "--once", "1234"));
    cases.add(c("lease grant too large TTL", 1, "Error: failed to grant lease (etcdserver: too large lease TTL)",
        rpc("OutOfRange", "etcdserver: too large lease TTL"), "lease", "grant", "9000000001"));
    cases.add(new Case("lease timetolive unknown is not an error", null, List.of("lease", "timetolive", "1234"), 0, null, null,
        "lease 0000000000001234 already expired\n"));
    cases.add(new Case("txn duplicate put", "\nput d 1\nput d 2\n\n\n", List.of("txn"), 1,
        "Error: etcdserver: duplicate key given in txn request",
        rpc("InvalidArgument", "etcdserver: duplicate key given in txn request"), null));
    cases.add(new Case("txn put and delete same key", "\nput d 1\ndel d\n\n\n", List.of("txn"), 1,
        "Error: etcdserver: duplicate key given in txn request",
        rpc("InvalidArgument", "etcdserver: duplicate key given in txn request"), null));
    cases.add(new Case("txn put and delete-range covering key", "\nput d/1 1\ndel d/ --prefix\n\n\n", List.of("txn"), 1,
        "Error: etcdserver: duplicate key given in txn request",
        rpc("InvalidArgument", "etcdserver: duplicate key given in txn request"), null));
    cases.add(((Supplier<Case>) () -> {
      StringBuilder sb = new StringBuilder("\n");
      for (int i = 0; i < 129; i++) sb.append("put k").append(i).append(" v\n");
      sb.append("\n\n");
      return new Case("txn with 129 ops (max 128)", sb.toString(), List.of("txn"), 1,
          "Error: etcdserver: too many operations in txn request",
          rpc("InvalidArgument", "etcdserver: too many operations in txn request"), null);
    }).get());
    cases.add(new Case("txn with empty key", "\nput \"\" 1\n\n\n", List.of("txn"), 1,
        "Error: " + KEY_NOT_PROVIDED, rpc("InvalidArgument", KEY_NOT_PROVIDED), null));
    cases.add(new Case("txn put with missing lease", "\nput l 1 --lease=1234\n\n\n", List.of("txn"), 1,
        "Error: " + LEASE_NOT_FOUND, rpc("NotFound", LEASE_NOT_FOUND), null));
    cases.add(new Case("txn get at future revision", "\nget a --rev=" + (head + 100) + "\n\n\n", List.of("txn"), 1,
        "Error: " + FUTURE, rpc("OutOfRange", FUTURE), null));
    cases.add(new Case("request too large (1.6 MB value via stdin)", "a".repeat(1_600_000), List.of("put", "big"), 1,
        "Error: etcdserver: request is too large", rpc("InvalidArgument", "etcdserver: request is too large"), null));
    cases.add(c("user get unknown", 1, "Error: etcdserver: user name not found",
        rpc("FailedPrecondition", "etcdserver: user name not found"), "user", "get", "nouser"));
    cases.add(c("role get unknown", 1, "Error: etcdserver: role name not found",
        rpc("FailedPrecondition", "etcdserver: role name not found"), "role", "get", "norole"));
    cases.add(c("auth enable without root", 1, "Error: etcdserver: root user does not exist",
        rpc("FailedPrecondition", "etcdserver: root user does not exist"), "auth", "enable"));
    cases.add(c("user add empty name", 1, "Error: etcdserver: user name is empty",
        rpc("InvalidArgument", "etcdserver: user name is empty"), "user", "add", "", "--new-user-password=a"));
    cases.add(c("role add empty name", 1, "Error: etcdserver: role name is empty",
        rpc("InvalidArgument", "etcdserver: role name is empty"), "role", "add", ""));

    // @BeforeAll has run, so head/compacted are known when the cases are built
    return cases.stream().map(k -> DynamicTest.dynamicTest(k.name(), () -> check(k)));
  }

  private static void check(Case k) {
    Etcdctl.Result r = ctl.run(Duration.ofSeconds(30), k.stdin(), k.args().toArray(String[]::new));
    String ctx = k.name() + "\n" + r;
    assertEquals(k.exit(), r.exitCode(), "exit code; " + ctx);
    if (k.errorLine() != null) {
      assertEquals(List.of(k.errorLine()), r.errorLines(), "Error: line; " + ctx);
    } else {
      assertEquals(List.of(), r.errorLines(), "no Error: line expected; " + ctx);
    }
    if (k.grpc() != null) {
      List<String> logged = grpcErrors(r.stderr());
      assertTrue(logged.contains(k.grpc()), "expected client log of '" + k.grpc() + "', got " + logged + "; " + ctx);
    }
    if (k.stdout() != null) assertEquals(k.stdout(), r.stdout(), "stdout; " + ctx);
  }

  /** The "error" fields of the JSON warn lines the etcd client logs for failed unary calls. */
  static List<String> grpcErrors(String stderr) {
    List<String> out = new ArrayList<>();
    for (String l : stderr.split("\n")) {
      if (!l.startsWith("{")) continue;
      try {
        Object e = Json.at(Json.parse(l), "error");
        if (e != null) out.add(e.toString());
      } catch (IllegalArgumentException ignored) {
      }
    }
    return out;
  }

  @TestFactory
  Stream<DynamicTest> watchOnCompactedRevisionIsCanceled() {
    return Stream.of(DynamicTest.dynamicTest("watch --rev below compaction", () -> {
      Etcdctl.Result r = ctl.run(Duration.ofSeconds(15), null, "watch", "a", "--rev=" + (compacted - 1));
      String ctx = r.toString();
      assertTrue(!r.timedOut(), "watch should be canceled by the server, but kept running; " + ctx);
      assertEquals(5, r.exitCode(), ctx);
      assertEquals("", r.stdout(), ctx);
      assertEquals("watch was canceled (" + COMPACTED + ")\nError: watch is canceled by the server\n", r.stderr(), ctx);
    }));
  }
}
