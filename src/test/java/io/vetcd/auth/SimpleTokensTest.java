package io.vetcd.auth;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SimpleTokensTest {
  final AtomicLong clock = new AtomicLong(1_000);
  final SimpleTokens tokens = new SimpleTokens(clock::get, 300_000);

  @Test
  void a_new_token_has_etcds_simple_shape() {
    String prefix = tokens.newPrefix();
    assertTrue(prefix.matches("[a-zA-Z]{16}"), prefix);
    String token = SimpleTokens.token(prefix, 42);
    assertEquals(prefix + ".42", token);
    assertTrue(SimpleTokens.wellFormed(token));
    assertFalse(SimpleTokens.wellFormed("no-index"));
    assertFalse(SimpleTokens.wellFormed("abc."));
    assertFalse(SimpleTokens.wellFormed("abc.4x"));
    assertNotEquals(prefix, tokens.newPrefix());
  }

  @Test
  void when_the_ttl_passes_unused_then_the_token_is_invalid() {
    tokens.assign("abc.1", "alice");
    clock.addAndGet(299_999);
    assertEquals(Optional.of("alice"), tokens.user("abc.1"));
    clock.addAndGet(300_000);
    assertEquals(Optional.empty(), tokens.user("abc.1"));
    assertEquals(0, tokens.size(), "an expired token is forgotten");
  }

  @Test
  void each_use_restarts_the_ttl() {
    tokens.assign("abc.1", "alice");
    for (int i = 0; i < 10; i++) {
      clock.addAndGet(200_000);
      assertEquals(Optional.of("alice"), tokens.user("abc.1"), "use " + i);
    }
    clock.addAndGet(300_000);
    assertEquals(Optional.empty(), tokens.user("abc.1"));
  }

  @Test
  void unknown_and_malformed_tokens_name_nobody() {
    assertEquals(Optional.empty(), tokens.user("abc.1"));
    assertEquals(Optional.empty(), tokens.user("garbage"));
    assertEquals(Optional.empty(), tokens.user(null));
  }

  @Test
  void invalidating_a_user_drops_only_its_tokens_and_clear_drops_all() {
    tokens.assign("a.1", "alice");
    tokens.assign("a.2", "alice");
    tokens.assign("b.3", "bob");
    tokens.invalidateUser("alice");
    assertEquals(Optional.empty(), tokens.user("a.1"));
    assertEquals(Optional.empty(), tokens.user("a.2"));
    assertEquals(Optional.of("bob"), tokens.user("b.3"));
    tokens.clear();
    assertEquals(Optional.empty(), tokens.user("b.3"));
  }

  @Test
  void expired_tokens_are_swept_as_new_ones_are_assigned() {
    for (int i = 0; i < 100; i++) {
      tokens.assign("t." + i, "u");
    }
    clock.addAndGet(400_000);
    for (int i = 100; i < 200; i++) {
      tokens.assign("t." + i, "u");
    }
    assertTrue(tokens.size() <= 100 + 64, "size " + tokens.size());
  }
}
