package io.vetcd.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * etcd's auth walkthrough through the real etcdctl: the root user, enabling auth, a role with a
 * prefix permission, a user reading and writing inside it and refused outside it (KV, txn, watch,
 * lease revoke, admin calls), password change, disabling auth. Every expected output was recorded
 * from real etcd 3.4.23; run with {@code -De2e.target=etcd} to re-verify.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuthEtcdctlTest {
  static final String DENIED = "Error: etcdserver: permission denied";
  /** etcdctl fails to create its client when the login is refused: exit 2 (bad connection). */
  static final int BAD_LOGIN_EXIT = 2;

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

  static Etcdctl.Result root(String... args) {
    return as("root:pw", args);
  }

  static Etcdctl.Result alice(String... args) {
    return as("alice:apw", args);
  }

  static Etcdctl.Result as(String user, String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "--user=" + user;
    System.arraycopy(args, 0, all, 1, args.length);
    return ctl.run(all);
  }

  static void ok(String expectedStdout, Etcdctl.Result r) {
    r.assertOk();
    assertEquals(expectedStdout, r.stdout(), r.toString());
  }

  static void fails(String errorLine, Etcdctl.Result r) {
    fails(1, errorLine, r);
  }

  static void fails(int exitCode, String errorLine, Etcdctl.Result r) {
    assertEquals(exitCode, r.exitCode(), r.toString());
    assertEquals(List.of(errorLine), r.errorLines(), r.toString());
  }

  @Test
  @Order(1)
  void enableAuthWithARootUser() {
    fails("Error: etcdserver: root user does not exist", ctl.run("auth", "enable"));
    ok("User root created\n", ctl.run("user", "add", "root", "--new-user-password=pw"));
    // etcdctl adds the root role and grants it when the server says root lacks it
    ok("Authentication Enabled\n", ctl.run("auth", "enable"));
    ok("User: root\nRoles: root\n", root("user", "get", "root"));
    fails("Error: etcdserver: user name is empty", ctl.run("get", "anything"));
    fails("Error: etcdserver: user name is empty", ctl.run("put", "anything", "x"));
    fails("Error: etcdserver: user name is empty", ctl.run("user", "list"));
    fails(BAD_LOGIN_EXIT, "Error: etcdserver: authentication failed, invalid user ID or password", as("root:wrong", "get", "a"));
    fails(BAD_LOGIN_EXIT, "Error: etcdserver: authentication failed, invalid user ID or password", as("nobody:pw", "get", "a"));
  }

  @Test
  @Order(2)
  void aRoleWithAPrefixPermissionGrantedToAUser() {
    ok("Role reader created\n", root("role", "add", "reader"));
    ok("Role reader updated\n", root("role", "grant-permission", "reader", "--prefix=true", "readwrite", "app/"));
    ok("Role reader updated\n", root("role", "grant-permission", "reader", "read", "shared"));
    ok("User alice created\n", root("user", "add", "alice", "--new-user-password=apw"));
    ok("Role reader is granted to user alice\n", root("user", "grant-role", "alice", "reader"));
    ok("Role reader\nKV Read:\n\t[app/, app0) (prefix app/)\n\tshared\nKV Write:\n\t[app/, app0) (prefix app/)\n",
        root("role", "get", "reader"));
    ok("User: alice\nRoles: reader\n", root("user", "get", "alice"));
    ok("alice\nroot\n", root("user", "list"));
    ok("reader\nroot\n", root("role", "list"));
    ok("OK\n", root("put", "shared", "s"));
    ok("OK\n", root("put", "secret", "x"));
  }

  @Test
  @Order(3)
  void theUserReadsAndWritesOnlyWhereItsRolesAllow() {
    ok("OK\n", alice("put", "app/one", "1"));
    ok("app/one\n1\n", alice("get", "app/one"));
    ok("app/one\n1\n", alice("get", "app/", "--prefix"));
    ok("shared\ns\n", alice("get", "shared"));
    fails(DENIED, alice("put", "shared", "mine"));
    fails(DENIED, alice("get", "secret"));
    fails(DENIED, alice("del", "secret"));
    fails(DENIED, alice("get", "", "--prefix"));
    fails(DENIED, alice("get", "app/", "--from-key"));
    ok("OK\n", alice("put", "app/two", "2", "--prev-kv"));
    ok("1\n", alice("del", "app/one"));
    ok("secret\nx\n", root("get", "secret"));
  }

  @Test
  @Order(4)
  void everyOpOfATxnIsChecked() {
    Etcdctl.Result allowed = ctl.run(Duration.ofSeconds(30), "value(\"shared\") = \"s\"\n\nput app/t yes\n\nput app/t no\n\n",
        "--user=alice:apw", "txn");
    ok("SUCCESS\n\nOK\n", allowed);
    fails(DENIED, ctl.run(Duration.ofSeconds(30), "value(\"secret\") = \"x\"\n\nput app/t yes\n\n\n", "--user=alice:apw", "txn"));
    fails(DENIED, ctl.run(Duration.ofSeconds(30), "\nput app/t yes\n\nget secret\n\n", "--user=alice:apw", "txn"));
    // a txn of gets only is served as a read (no raft entry): it is checked all the same
    ok("SUCCESS\n\napp/t\nyes\n", ctl.run(Duration.ofSeconds(30), "value(\"shared\") = \"s\"\n\nget app/t\n\n\n",
        "--user=alice:apw", "txn"));
    fails(DENIED, ctl.run(Duration.ofSeconds(30), "value(\"secret\") = \"x\"\n\nget app/t\n\n\n", "--user=alice:apw", "txn"));
    fails(DENIED, ctl.run(Duration.ofSeconds(30), "\nget app/t\n\nget secret\n\n", "--user=alice:apw", "txn"));
  }

  @Test
  @Order(5)
  void aWatchOutsideThePermissionsIsCanceled() {
    Etcdctl.Result r = ctl.run(Duration.ofSeconds(15), null, "--user=alice:apw", "watch", "secret");
    assertTrue(!r.timedOut(), "the server should cancel the watch; " + r);
    assertEquals(5, r.exitCode(), r.toString());
    assertEquals("watch was canceled (rpc error: code = PermissionDenied desc = etcdserver: permission denied)\n"
        + "Error: watch is canceled by the server\n", r.stderr(), r.toString());
    // without a user, as etcd 3.4.23: the reason is the missing user name
    Etcdctl.Result anonymous = ctl.run(Duration.ofSeconds(15), null, "watch", "app/x");
    assertEquals(5, anonymous.exitCode(), anonymous.toString());
    assertEquals("watch was canceled (rpc error: code = InvalidArgument desc = etcdserver: user name is empty)\n"
        + "Error: watch is canceled by the server\n", anonymous.stderr(), anonymous.toString());
    try (Etcdctl.Background watch = ctl.start("--user=alice:apw", "watch", "app/", "--prefix")) {
      // etcdctl prints nothing when the watch is created: retry the put until the event shows
      String line = null;
      for (int i = 0; i < 20 && line == null; i++) {
        root("put", "app/w", "v" + i).assertOk();
        line = watch.nextLine(Duration.ofMillis(500));
      }
      assertEquals("PUT", line, watch.seen().toString());
      assertEquals("app/w", watch.nextLine(Duration.ofSeconds(5)));
    }
  }

  @Test
  @Order(6)
  void revokingALeaseNeedsWriteOnEveryAttachedKey() {
    String lease = root("lease", "grant", "600").assertOk().stdout().split(" ")[1];
    ok("OK\n", root("put", "secret/leased", "x", "--lease=" + lease));
    fails("Error: failed to revoke lease (etcdserver: permission denied)", alice("lease", "revoke", lease));
    fails(DENIED, alice("put", "app/leased", "x", "--lease=" + lease));
    String own = alice("lease", "grant", "600").assertOk().stdout().split(" ")[1];
    ok("OK\n", alice("put", "app/mine", "x", "--lease=" + own));
    ok("lease " + own + " revoked\n", alice("lease", "revoke", own));
  }

  @Test
  @Order(7)
  void adminCallsNeedRootButAUserSeesItself() {
    fails(DENIED, alice("user", "list"));
    fails(DENIED, alice("role", "add", "mine"));
    fails(DENIED, alice("user", "get", "root"));
    fails(DENIED, alice("auth", "disable"));
    // membership changes need root, checked before anything else about them
    fails(DENIED, alice("member", "add", "intruder", "--peer-urls=http://127.0.0.1:2"));
    fails(DENIED, alice("member", "remove", "1234"));
    fails(DENIED, alice("member", "update", "1234", "--peer-urls=http://127.0.0.1:4"));
    fails(DENIED, alice("member", "promote", "1234"));
    fails("Error: etcdserver: user name is empty", ctl.run("member", "remove", "1234"));
    ok("User: alice\nRoles: reader\n", alice("user", "get", "alice"));
    Etcdctl.Result hash = alice("endpoint", "hashkv");
    assertTrue(hash.stderr().contains("rpc error: code = Unknown desc = auth: permission denied"), hash.toString());
    fails("Error: etcdserver: invalid auth management", root("user", "delete", "root"));
    fails("Error: etcdserver: invalid auth management", root("role", "delete", "root"));
    fails("Error: etcdserver: user name already exists", root("user", "add", "alice", "--new-user-password=x"));
    fails("Error: etcdserver: role is not granted to the user", root("user", "revoke-role", "alice", "root"));
  }

  @Test
  @Order(8)
  void changingThePasswordAndRevokingThePermission() {
    ok("Password updated\n", ctl.run(Duration.ofSeconds(30), "apw2", "--user=root:pw", "user", "passwd", "alice",
        "--interactive=false"));
    fails(BAD_LOGIN_EXIT, "Error: etcdserver: authentication failed, invalid user ID or password", alice("get", "shared"));
    ok("shared\ns\n", as("alice:apw2", "get", "shared"));
    ok("Permission of key shared is revoked from role reader\n",
        root("role", "revoke-permission", "reader", "shared"));
    fails(DENIED, as("alice:apw2", "get", "shared"));
    fails("Error: etcdserver: permission is not granted to the role", root("role", "revoke-permission", "reader", "shared"));
    ok("Role reader deleted\n", root("role", "delete", "reader"));
    ok("User: alice\nRoles:\n", root("user", "get", "alice"));
  }

  @Test
  @Order(9)
  void disablingAuthOpensEverythingAgain() {
    ok("Authentication Disabled\n", root("auth", "disable"));
    ok("secret\nx\n", ctl.run("get", "secret"));
    ok("alice\nroot\n", ctl.run("user", "list"));
    ok("User alice deleted\n", ctl.run("user", "delete", "alice"));
    ok("Authentication Enabled\n", ctl.run("auth", "enable"));
    fails("Error: etcdserver: user name is empty", ctl.run("get", "secret"));
    ok("secret\nx\n", root("get", "secret"));
  }
}
