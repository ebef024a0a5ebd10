package io.vetcd.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.auth.Permission;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * With auth enabled, the lock and election services act with the caller's permissions at every
 * step (as etcd's do, calling the KV API with the client's credentials).
 */
class LockElectionAuthTest {
  static ByteSequence b(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  static String denied(java.util.concurrent.CompletableFuture<?> call) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(10, TimeUnit.SECONDS));
    return e.getCause().getMessage();
  }

  @Test
  void lock_and_election_need_the_callers_permission_on_their_prefix() throws Exception {
    try (InProcessMember member = new InProcessMember()) {
      try (Client admin = Client.builder().endpoints(member.endpoint()).build()) {
        var auth = admin.getAuthClient();
        auth.userAdd(b("root"), b("pw")).get(10, TimeUnit.SECONDS);
        auth.roleAdd(b("root")).get(10, TimeUnit.SECONDS);
        auth.userGrantRole(b("root"), b("root")).get(10, TimeUnit.SECONDS);
        auth.userAdd(b("alice"), b("apw")).get(10, TimeUnit.SECONDS);
        auth.roleAdd(b("app")).get(10, TimeUnit.SECONDS);
        auth.roleGrantPermission(b("app"), b("app/"), b("app0"), Permission.Type.READWRITE).get(10, TimeUnit.SECONDS);
        auth.userGrantRole(b("alice"), b("app")).get(10, TimeUnit.SECONDS);
        auth.authEnable().get(10, TimeUnit.SECONDS);
      }
      try (Client alice = Client.builder().endpoints(member.endpoint()).user(b("alice")).password(b("apw")).build()) {
        long lease = alice.getLeaseClient().grant(60).get(10, TimeUnit.SECONDS).getID();
        var held = alice.getLockClient().lock(b("app/lock"), lease).get(10, TimeUnit.SECONDS);
        assertEquals("app/lock/" + Long.toHexString(lease), held.getKey().toString(UTF_8));
        alice.getLockClient().unlock(held.getKey()).get(10, TimeUnit.SECONDS);
        assertTrue(denied(alice.getLockClient().lock(b("other"), lease)).contains("etcdserver: permission denied"));

        var leader = alice.getElectionClient().campaign(b("app/election"), lease, b("me")).get(10, TimeUnit.SECONDS);
        assertEquals("me", alice.getElectionClient().leader(b("app/election")).get(10, TimeUnit.SECONDS)
            .getKv().getValue().toString(UTF_8));
        alice.getElectionClient().resign(leader.getLeader()).get(10, TimeUnit.SECONDS);
        assertTrue(denied(alice.getElectionClient().campaign(b("other"), lease, b("me")))
            .contains("etcdserver: permission denied"));
        assertTrue(denied(alice.getElectionClient().leader(b("other"))).contains("etcdserver: permission denied"));
      }
      try (Client anonymous = Client.builder().endpoints(member.endpoint()).build()) {
        assertTrue(denied(anonymous.getLockClient().lock(b("app/lock"), 0)).contains("etcdserver: user name is empty"));
      }
      try (Client root = Client.builder().endpoints(member.endpoint()).user(b("root")).password(b("pw")).build()) {
        var held = root.getLockClient().lock(b("other"), 0).get(10, TimeUnit.SECONDS);
        root.getLockClient().unlock(held.getKey()).get(10, TimeUnit.SECONDS);
      }
    }
  }
}
