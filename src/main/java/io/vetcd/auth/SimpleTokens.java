package io.vetcd.auth;

import java.security.SecureRandom;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * etcd's {@code --auth-token simple}: opaque tokens {@code <16 random letters>.<raft index>} that
 * name a user, known to every member (assigned when the Authenticate entry is applied), valid for
 * {@code ttlMillis} after their last use. The clock is injected (monotonic milliseconds) so tests
 * can simulate time. Thread-safe: assigned on the apply thread, looked up by the frontends.
 */
public final class SimpleTokens implements TokenProvider {
  private static final String LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  private static final int PREFIX_LENGTH = 16;
  /** Expired tokens are swept every this many assignments, so the table stays bounded. */
  private static final int SWEEP_EVERY = 64;

  private record Token(String username, long deadlineMillis) {}

  private final LongSupplier clockMillis;
  private final long ttlMillis;
  private final Map<String, Token> tokens = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private int assignedSinceSweep;

  public SimpleTokens(LongSupplier clockMillis, long ttlMillis) {
    if (ttlMillis <= 0) {
      throw new IllegalArgumentException("token TTL must be positive");
    }
    this.clockMillis = clockMillis;
    this.ttlMillis = ttlMillis;
  }

  /** The random part of a new token; the member proposing the Authenticate entry picks it. */
  @Override
  public String newPrefix() {
    StringBuilder sb = new StringBuilder(PREFIX_LENGTH);
    for (int i = 0; i < PREFIX_LENGTH; i++) {
      sb.append(LETTERS.charAt(random.nextInt(LETTERS.length())));
    }
    return sb.toString();
  }

  @Override
  public String issue(String prefix, long raftIndex, String username, long authRevision) {
    String token = token(prefix, raftIndex);
    assign(token, username);
    return token;
  }

  /** Simple tokens name a user; the auth revision is the member's current one (as etcd). */
  @Override
  public Optional<AuthInfo> info(String token, long currentAuthRevision) {
    return user(token).map(user -> new AuthInfo(user, currentAuthRevision));
  }

  public static String token(String prefix, long raftIndex) {
    return prefix + "." + raftIndex;
  }

  /** True if the token has etcd's simple-token shape {@code <prefix>.<index>}. */
  public static boolean wellFormed(String token) {
    int dot = token.lastIndexOf('.');
    if (dot <= 0 || dot == token.length() - 1) {
      return false;
    }
    for (int i = dot + 1; i < token.length(); i++) {
      if (!Character.isDigit(token.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  public synchronized void assign(String token, String username) {
    tokens.put(token, new Token(username, clockMillis.getAsLong() + ttlMillis));
    if (++assignedSinceSweep >= SWEEP_EVERY) {
      assignedSinceSweep = 0;
      sweep();
    }
  }

  /** The user a live token names; using it restarts its TTL. Expired tokens are forgotten. */
  public Optional<String> user(String token) {
    if (token == null || !wellFormed(token)) {
      return Optional.empty();
    }
    long now = clockMillis.getAsLong();
    Token t = tokens.get(token);
    if (t == null) {
      return Optional.empty();
    }
    if (now >= t.deadlineMillis) {
      tokens.remove(token, t);
      return Optional.empty();
    }
    tokens.replace(token, t, new Token(t.username, now + ttlMillis));
    return Optional.of(t.username);
  }

  /** Forgets every token of a user (deleted, or its password changed). */
  @Override
  public void invalidateUser(String username) {
    tokens.values().removeIf(t -> t.username.equals(username));
  }

  /** Forgets every token (auth disabled). */
  @Override
  public void clear() {
    tokens.clear();
  }

  public int size() {
    return tokens.size();
  }

  private void sweep() {
    long now = clockMillis.getAsLong();
    for (Iterator<Token> it = tokens.values().iterator(); it.hasNext(); ) {
      if (now >= it.next().deadlineMillis) {
        it.remove();
      }
    }
  }
}
