package io.vetcd.auth;

import java.util.Optional;

/** How Authenticate's tokens are made and recognised: etcd's {@code --auth-token simple} or {@code jwt,...}. */
public interface TokenProvider {
  /** What the member proposing an Authenticate entry adds to it (simple tokens: their random part). */
  String newPrefix();

  /** Applying an Authenticate entry: the token the caller gets for {@code username}. */
  String issue(String prefix, long raftIndex, String username, long authRevision);

  /** Who a token names and as of which auth revision, or empty when it is unknown, forged or expired. */
  Optional<AuthInfo> info(String token, long currentAuthRevision);

  /** A user was deleted or its password changed: tokens that can be forgotten are. */
  void invalidateUser(String username);

  /** Auth was disabled. */
  void clear();
}
