package io.vetcd.auth;

/**
 * Who is asking: the user a token names and the auth store's revision when the token was checked.
 * Revision 0 means no token was given (anonymous), which etcd refuses with "user name is empty"
 * once auth is enabled.
 */
public record AuthInfo(String username, long revision) {
  public static final AuthInfo ANONYMOUS = new AuthInfo("", 0);

  public AuthInfo {
    username = username == null ? "" : username;
  }
}
