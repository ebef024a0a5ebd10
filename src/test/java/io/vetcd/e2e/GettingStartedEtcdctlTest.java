package io.vetcd.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** The etcd "getting started" walkthrough, driven through the real etcdctl binary. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GettingStartedEtcdctlTest {

  private static final Pattern GRANTED = Pattern.compile("^lease ([0-9a-f]{16}) granted with TTL\\((\\d+)s\\)$");

  static Member member;
  static Etcdctl ctl;

  @BeforeAll
  static void up() {
    member = Member.start(Member.Kind.target());
    ctl = member.etcdctl();
  }

  @AfterAll
  static void down() {
    if (member != null) member.close();
  }

  private static String out(Etcdctl.Result r) {
    r.assertOk();
    return r.stdout();
  }

  private static long revision(String key) {
    String json = out(ctl.run("get", key, "-w", "json"));
    Object o = Json.parse(json);
    return Long.parseLong(Json.at(o, "header", "revision").toString());
  }

  private static String grant(int ttl) {
    String s = out(ctl.run("lease", "grant", Integer.toString(ttl))).trim();
    Matcher m = GRANTED.matcher(s);
    assertTrue(m.matches(), "unexpected lease grant output: " + s);
    assertEquals(Integer.toString(ttl), m.group(2), s);
    return m.group(1);
  }

  /** On a fresh member, before any write: etcd's in-use size is never 0, so the JSON always has it. */
  @Test
  @Order(0)
  void aFreshMembersStatusShowsItsSizeInUse() {
    Object status = Json.parse(out(ctl.run("endpoint", "status", "-w", "json")));
    Object inUse = Json.at(status, 0, "Status", "dbSizeInUse");
    assertNotNull(inUse, "dbSizeInUse in " + status);
    long size = Long.parseLong(Json.at(status, 0, "Status", "dbSize").toString());
    long used = Long.parseLong(inUse.toString());
    assertTrue(used > 0 && used <= size, "in use " + used + " of " + size);
  }

  @Test
  @Order(1)
  void putGetLeaseRevDel() {
    assertEquals("OK\n", out(ctl.run("put", "hello", "world")));
    long firstRev = revision("hello");
    assertEquals("hello\nworld\n", out(ctl.run("get", "hello")));

    String lease = grant(200);
    assertEquals("OK\n", out(ctl.run("put", "hello", "world2", "--lease=" + lease)));
    assertEquals("hello\nworld2\n", out(ctl.run("get", "hello")));
    // the older revision still shows the older value
    assertEquals("hello\nworld\n", out(ctl.run("get", "hello", "--rev=" + firstRev)));
    // the key is attached to the lease
    String ttl = out(ctl.run("lease", "timetolive", lease, "--keys"));
    assertTrue(ttl.matches("(?s)lease " + lease + " granted with TTL\\(200s\\), remaining\\((\\d+)s\\), attached keys\\(\\[hello\\]\\)\n"),
        ttl);

    assertEquals("1\n", out(ctl.run("del", "hello")));
    assertEquals("", out(ctl.run("get", "hello")));
    assertEquals("0\n", out(ctl.run("del", "hello")));
    assertEquals("lease " + lease + " revoked\n", out(ctl.run("lease", "revoke", lease)));
  }

  @Test
  @Order(2)
  void watchSeesPutAndLeaseExpiryDelete() {
    try (Etcdctl.Background watch = ctl.start("watch", "hello")) {
      // etcdctl prints nothing when the watch is created; to know it is established, write sentinel
      // values until one is observed, then drain up to the newest sentinel.
      String last = null;
      for (int i = 1; ; i++) {
        assertTrue(i <= 10, "watch never delivered a sentinel put; stdout: " + watch.seen());
        last = "sentinel-" + i;
        assertEquals("OK\n", out(ctl.run("put", "hello", last)));
        String l = watch.nextLine(Duration.ofSeconds(i == 1 ? 10 : 3));
        if (l != null) {
          String key = watch.nextLine(Duration.ofSeconds(5));
          String val = watch.nextLine(Duration.ofSeconds(5));
          assertEquals(List.of("PUT", "hello"), List.of(l, key), "watch output: " + watch.seen());
          while (!last.equals(val)) {
            assertEquals("PUT", watch.nextLine(Duration.ofSeconds(5)), "watch output: " + watch.seen());
            assertEquals("hello", watch.nextLine(Duration.ofSeconds(5)), "watch output: " + watch.seen());
            val = watch.nextLine(Duration.ofSeconds(5));
          }
          break;
        }
      }

      String lease = grant(3);
      assertEquals("OK\n", out(ctl.run("put", "hello", "world-age", "--lease=" + lease)));
      assertEquals("PUT", watch.nextLine(Duration.ofSeconds(10)));
      assertEquals("hello", watch.nextLine(Duration.ofSeconds(5)));
      assertEquals("world-age", watch.nextLine(Duration.ofSeconds(5)));

      // lease expiry deletes the key; allow generous time
      String l1 = watch.nextLine(Duration.ofSeconds(20));
      assertNotNull(l1, "no DELETE event within 20s after a 3s lease; watch output: " + watch.seen()
          + "; get hello: " + ctl.run("get", "hello"));
      assertEquals("DELETE", l1);
      assertEquals("hello", watch.nextLine(Duration.ofSeconds(5)));
      assertEquals("", out(ctl.run("get", "hello")));
      String ttl = out(ctl.run("lease", "timetolive", lease)).trim();
      assertEquals("lease " + lease + " already expired", ttl);
    }
  }

  @Test
  @Order(3)
  void watchStartedBeforeDoesNotPrintOnCreate() {
    // a watch on a silent key prints nothing
    Etcdctl.Result r = ctl.run(Duration.ofSeconds(2), null, "watch", "nothing-here");
    assertTrue(r.timedOut(), r.toString());
    assertEquals("", r.stdout(), r.toString());
  }
}
