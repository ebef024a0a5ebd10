package io.vetcd.lease;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import io.vetcd.errors.Errors;
import io.vetcd.errors.EtcdException;
import java.util.List;
import org.junit.jupiter.api.Test;

class LessorTest {
  static ByteString k(String s) {
    return ByteString.copyFromUtf8(s);
  }

  @Test
  void grant_below_minimum_is_raised_to_minimum() {
    Lessor lessor = new Lessor(2);
    assertEquals(2, lessor.grant(1, 1, 0).ttlSeconds());
    assertEquals(30, lessor.grant(2, 30, 0).ttlSeconds());
  }

  @Test
  void grant_of_existing_id_fails_with_lease_exists() {
    Lessor lessor = new Lessor(2);
    lessor.grant(7, 10, 0);
    EtcdException e = assertThrows(EtcdException.class, () -> lessor.grant(7, 10, 0));
    assertSame(Errors.LEASE_EXIST, e);
  }

  @Test
  void expiry_queue_returns_leases_in_deadline_order_only_on_primary() {
    Lessor lessor = new Lessor(2);
    lessor.grant(1, 10, 0);
    lessor.grant(2, 5, 0);
    assertEquals(List.of(), lessor.expired(100_000, 10, 1000), "a follower tracks no deadlines");
    lessor.promote(0, 0);
    assertEquals(List.of(), lessor.expired(4_999, 10, 1000));
    assertEquals(List.of(2L), lessor.expired(5_000, 10, 60_000));
    assertEquals(List.of(1L), lessor.expired(10_000, 10, 60_000), "an expired lease is not offered again at once");
    assertEquals(List.of(2L, 1L), lessor.expired(70_000, 10, 60_000), "until its revoke is retried");
  }

  @Test
  void renew_pushes_the_deadline_back() {
    Lessor lessor = new Lessor(2);
    lessor.promote(0, 0);
    lessor.grant(1, 10, 0);
    assertEquals(10, lessor.renew(1, 8_000));
    assertEquals(8, lessor.remainingSeconds(1, 10_000));
    assertEquals(7, lessor.remainingSeconds(1, 10_001), "etcd truncates the remaining seconds");
    assertEquals(List.of(), lessor.expired(17_999, 10, 1000));
    assertEquals(List.of(1L), lessor.expired(18_000, 10, 1000));
  }

  @Test
  void promotion_extends_every_lease_so_an_election_expires_none() {
    Lessor lessor = new Lessor(2);
    lessor.grant(1, 5, 0);
    lessor.promote(100_000, 1_000);
    assertEquals(List.of(), lessor.expired(105_999, 10, 1000));
    assertEquals(List.of(1L), lessor.expired(106_000, 10, 1000));
  }

  @Test
  void revoke_returns_attached_keys_and_reattach_moves_a_key() {
    Lessor lessor = new Lessor(2);
    lessor.grant(1, 10, 0);
    lessor.grant(2, 10, 0);
    lessor.attach(k("a"), 1);
    lessor.attach(k("b"), 1);
    lessor.attach(k("b"), 2);
    assertEquals(List.of(k("a")), lessor.revoke(1));
    assertEquals(List.of(k("b")), lessor.get(2).keys());
    assertThrows(EtcdException.class, () -> lessor.revoke(1));
  }
}
