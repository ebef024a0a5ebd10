package io.vetcd.auth;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class PasswordsTest {
  @Test
  void bcrypt_round_trip() {
    Passwords passwords = new Passwords(4);
    String hash = passwords.hash("s3cret");
    assertTrue(hash.startsWith("$2a$04$"), hash);
    assertEquals(60, hash.length());
    assertTrue(Passwords.matches("s3cret", hash));
    assertFalse(Passwords.matches("s3cret!", hash));
    assertFalse(Passwords.matches("", hash));
    assertNotEquals(hash, passwords.hash("s3cret"), "salted");
  }

  @Test
  void a_hash_made_by_etcd_is_accepted() {
    // Read from the bolt db of real etcd 3.4.23 after `etcdctl user add root --new-user-password=pw`
    // (Go's golang.org/x/crypto/bcrypt, cost 10).
    String etcdHash = "$2a$10$kdn1/dLI7.wInXU5qPI5me7r1DLZs02Hqf234EzaBLTGvylf7VCh.";
    assertTrue(Passwords.matches("pw", etcdHash));
    assertFalse(Passwords.matches("np", etcdHash));
  }

  @Test
  void default_cost_is_etcds_and_bad_costs_are_refused() {
    assertEquals(10, Passwords.DEFAULT_COST);
    assertThrows(IllegalArgumentException.class, () -> new Passwords(3));
    assertThrows(IllegalArgumentException.class, () -> new Passwords(32));
  }

  @Test
  void a_malformed_or_empty_hash_matches_nothing() {
    assertFalse(Passwords.matches("pw", ""));
    assertFalse(Passwords.matches("pw", null));
    assertFalse(Passwords.matches("pw", "not-a-hash"));
  }
}
