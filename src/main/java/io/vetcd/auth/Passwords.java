package io.vetcd.auth;

import org.mindrot.jbcrypt.BCrypt;

/**
 * bcrypt password hashes, as etcd stores them ({@code $2a$<cost>$...}, cost 10 by default,
 * etcd's {@code --bcrypt-cost}). Hashing is slow on purpose: never call it on an event loop.
 */
public final class Passwords {
  public static final int DEFAULT_COST = 10;
  public static final int MIN_COST = 4;
  public static final int MAX_COST = 31;

  private final int cost;

  public Passwords(int cost) {
    if (cost < MIN_COST || cost > MAX_COST) {
      throw new IllegalArgumentException("bcrypt cost must be within [" + MIN_COST + ", " + MAX_COST + "], got " + cost);
    }
    this.cost = cost;
  }

  public int cost() {
    return cost;
  }

  public String hash(String password) {
    return BCrypt.hashpw(password, BCrypt.gensalt(cost));
  }

  /** True if {@code password} matches the stored hash; a malformed hash matches nothing. */
  public static boolean matches(String password, String hash) {
    if (hash == null || hash.isEmpty()) {
      return false;
    }
    try {
      return BCrypt.checkpw(password, hash);
    } catch (IllegalArgumentException | StringIndexOutOfBoundsException malformed) {
      return false;
    }
  }
}
