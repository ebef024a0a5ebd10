package io.vetcd.auth;

import com.google.protobuf.ByteString;
import io.vetcd.mvcc.KeyOrder;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.vetcd.errors.EtcdException;
import io.vetcd.pb.*;
import io.vetcd.pb.internal.AuthHeader;
import io.vetcd.pb.internal.InternalAuthenticateRequest;
import io.vetcd.pb.internal.InternalRequest;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;

/**
 * etcd's auth store: the enabled flag, users (bcrypt password hashes, roles), roles (key-range
 * permissions) and the auth revision, which every change bumps.
 *
 * <p>Changed only by {@link #apply} of committed raft entries, on the apply thread, so every member
 * holds the same state; each change is written through to {@code table} (a MapDB map committed with
 * the key-value data). Reads and permission checks work on an immutable snapshot and are safe from
 * any thread.
 */
public final class AuthStore {
  public static final String ROOT_USER = "root";
  public static final String ROOT_ROLE = "root";

  // The auth table's layout (also read and written by backups in etcd's format, server.EtcdBackup).
  public static final String ENABLED_KEY = "enabled";
  public static final String REVISION_KEY = "revision";
  public static final String USER_PREFIX = "user/";
  public static final String ROLE_PREFIX = "role/";

  /** An immutable snapshot; {@code permissions} caches each user's merged permissions for it. */
  private record State(boolean enabled, long revision, SortedMap<String, User> users, SortedMap<String, Role> roles,
      Map<String, RangePermissions> permissions) {
    static State of(boolean enabled, long revision, SortedMap<String, User> users, SortedMap<String, Role> roles) {
      return new State(enabled, revision, users, roles, new ConcurrentHashMap<>());
    }
  }

  private final Map<String, byte[]> table;
  private final TokenProvider tokens;
  private volatile State state;

  public AuthStore(Map<String, byte[]> table, TokenProvider tokens) {
    this.table = table;
    this.tokens = tokens;
    this.state = load(table);
  }

  /** Reads the table again: the store was replaced by a snapshot from the leader. */
  public void reload() {
    state = load(table);
  }

  private static State load(Map<String, byte[]> table) {
    boolean enabled = false;
    long revision = 1; // as etcd: a fresh auth store starts at revision 1, so 0 means "no token"
    SortedMap<String, User> users = new TreeMap<>();
    SortedMap<String, Role> roles = new TreeMap<>();
    for (Map.Entry<String, byte[]> e : table.entrySet()) {
      String key = e.getKey();
      try {
        if (key.equals(ENABLED_KEY)) {
          enabled = e.getValue().length > 0 && e.getValue()[0] == 1;
        } else if (key.equals(REVISION_KEY)) {
          revision = ByteBuffer.wrap(e.getValue()).getLong();
        } else if (key.startsWith(USER_PREFIX)) {
          users.put(key.substring(USER_PREFIX.length()), User.parseFrom(e.getValue()));
        } else if (key.startsWith(ROLE_PREFIX)) {
          roles.put(key.substring(ROLE_PREFIX.length()), Role.parseFrom(e.getValue()));
        }
      } catch (InvalidProtocolBufferException ex) {
        throw new IllegalStateException("corrupt auth record " + key, ex);
      }
    }
    return State.of(enabled, revision, Collections.unmodifiableSortedMap(users), Collections.unmodifiableSortedMap(roles));
  }

  // ---------------------------------------------------------------- queries (any thread)

  public boolean enabled() {
    return state.enabled;
  }

  public long revision() {
    return state.revision;
  }

  public TokenProvider tokens() {
    return tokens;
  }

  public Optional<User> user(String name) {
    return Optional.ofNullable(state.users.get(name));
  }

  /**
   * Who a request's token names. No token: {@link AuthInfo#ANONYMOUS}. A token this member does not
   * know (expired, forged, issued before auth was disabled): "invalid auth token", as etcd answers.
   */
  public AuthInfo authInfo(String token) {
    if (token == null) {
      return AuthInfo.ANONYMOUS;
    }
    return tokens.info(token, state.revision).orElseThrow(() -> AuthErrors.INVALID_AUTH_TOKEN);
  }

  /**
   * etcd's password check before an Authenticate is proposed (bcrypt: slow, call it on a worker).
   * Returns the auth revision it checked against.
   */
  public long checkPassword(String name, String password) {
    State s = state;
    if (!s.enabled) {
      throw AuthErrors.AUTH_NOT_ENABLED;
    }
    User user = s.users.get(name);
    if (user != null && user.getOptions().getNoPassword()) {
      throw AuthErrors.NO_PASSWORD_USER;
    }
    if (user == null || !Passwords.matches(password, user.getPassword().toStringUtf8())) {
      throw AuthErrors.AUTH_FAILED;
    }
    return s.revision;
  }

  /** Root may do anything; when auth is disabled everybody may. */
  public void checkAdmin(AuthInfo who) {
    State s = state;
    if (!s.enabled) {
      return;
    }
    if (who == null || who.username().isEmpty()) {
      throw AuthErrors.USER_EMPTY;
    }
    User user = s.users.get(who.username());
    if (user == null) {
      throw AuthErrors.USER_NOT_FOUND;
    }
    if (!hasRootRole(user)) {
      throw AuthErrors.PERMISSION_DENIED;
    }
  }

  public boolean isAdmin(AuthInfo who) {
    try {
      checkAdmin(who);
      return true;
    } catch (EtcdException e) {
      return false;
    }
  }

  public void checkRange(AuthInfo who, ByteString key, ByteString rangeEnd) {
    checkOp(who, key, rangeEnd, Permission.Type.READ);
  }

  public void checkPut(AuthInfo who, ByteString key) {
    checkOp(who, key, ByteString.EMPTY, Permission.Type.WRITE);
  }

  public void checkDeleteRange(AuthInfo who, ByteString key, ByteString rangeEnd) {
    checkOp(who, key, rangeEnd, Permission.Type.WRITE);
  }

  /** etcd's isOpPermitted. */
  private void checkOp(AuthInfo who, ByteString key, ByteString rangeEnd, Permission.Type type) {
    State s = state;
    if (!s.enabled) {
      return;
    }
    if (who == null || who.revision() == 0) {
      throw AuthErrors.USER_EMPTY;
    }
    if (who.revision() < s.revision) {
      throw AuthErrors.AUTH_OLD_REVISION;
    }
    User user = s.users.get(who.username());
    if (user == null) {
      throw AuthErrors.PERMISSION_DENIED;
    }
    if (hasRootRole(user)) {
      return;
    }
    RangePermissions perms = s.permissions.computeIfAbsent(who.username(), name -> permissionsOf(s, user));
    if (!perms.permits(type, key.toByteArray(), rangeEnd.toByteArray())) {
      throw AuthErrors.PERMISSION_DENIED;
    }
  }

  private static RangePermissions permissionsOf(State s, User user) {
    List<Permission> all = new ArrayList<>();
    for (String roleName : user.getRolesList()) {
      Role role = s.roles.get(roleName);
      if (role != null) {
        all.addAll(role.getKeyPermissionList());
      }
    }
    return RangePermissions.of(all);
  }

  /** Every op of a txn, compares as reads, nested txns included (etcd's checkTxnAuth). */
  public void checkTxn(AuthInfo who, TxnRequest txn) {
    for (Compare c : txn.getCompareList()) {
      checkRange(who, c.getKey(), c.getRangeEnd());
    }
    checkOps(who, txn.getSuccessList());
    checkOps(who, txn.getFailureList());
  }

  private void checkOps(AuthInfo who, List<RequestOp> ops) {
    for (RequestOp op : ops) {
      switch (op.getRequestCase()) {
        case REQUEST_RANGE -> checkRange(who, op.getRequestRange().getKey(), op.getRequestRange().getRangeEnd());
        case REQUEST_PUT -> checkPut(who, op.getRequestPut().getKey());
        case REQUEST_DELETE_RANGE -> {
          DeleteRangeRequest d = op.getRequestDeleteRange();
          if (d.getPrevKv()) {
            checkRange(who, d.getKey(), d.getRangeEnd());
          }
          checkDeleteRange(who, d.getKey(), d.getRangeEnd());
        }
        case REQUEST_TXN -> checkTxn(who, op.getRequestTxn());
        default -> { }
      }
    }
  }

  /**
   * The permission checks etcd's auth applier makes before applying a client's write; the
   * member's own requests (no auth header: lease expiry, alarms) pass. {@code leaseKeys} gives the
   * keys attached to a lease (a revoke needs WRITE on each; so does attaching a put to the lease).
   */
  public void checkApply(InternalRequest request, LongFunction<Collection<ByteString>> leaseKeys) {
    if (!request.hasAuth() || !state.enabled) {
      return;
    }
    AuthInfo who = authInfo(request.getAuth());
    switch (request.getRequestCase()) {
      case PUT -> {
        PutRequest p = request.getPut();
        checkPut(who, p.getKey());
        checkLeasePuts(who, p.getLease(), leaseKeys);
        if (p.getPrevKv()) {
          checkRange(who, p.getKey(), ByteString.EMPTY);
        }
      }
      case DELETE_RANGE -> {
        DeleteRangeRequest d = request.getDeleteRange();
        checkDeleteRange(who, d.getKey(), d.getRangeEnd());
        if (d.getPrevKv()) {
          checkRange(who, d.getKey(), d.getRangeEnd());
        }
      }
      case TXN -> {
        checkTxn(who, request.getTxn());
        checkTxnLeases(who, request.getTxn(), leaseKeys);
      }
      case LEASE_REVOKE -> checkLeasePuts(who, request.getLeaseRevoke().getID(), leaseKeys);
      default -> { }
    }
  }

  private void checkTxnLeases(AuthInfo who, TxnRequest txn, LongFunction<Collection<ByteString>> leaseKeys) {
    for (List<RequestOp> ops : List.of(txn.getSuccessList(), txn.getFailureList())) {
      for (RequestOp op : ops) {
        if (op.hasRequestPut()) {
          checkLeasePuts(who, op.getRequestPut().getLease(), leaseKeys);
        } else if (op.hasRequestTxn()) {
          checkTxnLeases(who, op.getRequestTxn(), leaseKeys);
        }
      }
    }
  }

  private void checkLeasePuts(AuthInfo who, long leaseId, LongFunction<Collection<ByteString>> leaseKeys) {
    if (leaseId == 0) {
      return;
    }
    for (ByteString key : leaseKeys.apply(leaseId)) {
      checkPut(who, key);
    }
  }

  private static AuthInfo authInfo(AuthHeader header) {
    return new AuthInfo(header.getUsername(), header.getRevision());
  }

  private static boolean hasRootRole(User user) {
    return user.getRolesList().contains(ROOT_ROLE);
  }

  // ---------------------------------------------------------------- apply (apply thread only)

  /** True for the auth requests {@link #apply} handles. */
  public static boolean handles(InternalRequest request) {
    return switch (request.getRequestCase()) {
      case AUTH_ENABLE, AUTH_DISABLE, AUTHENTICATE, AUTH_USER_ADD, AUTH_USER_DELETE, AUTH_USER_GET, AUTH_USER_LIST,
          AUTH_USER_CHANGE_PASSWORD, AUTH_USER_GRANT_ROLE, AUTH_USER_REVOKE_ROLE, AUTH_ROLE_ADD, AUTH_ROLE_GET,
          AUTH_ROLE_LIST, AUTH_ROLE_DELETE, AUTH_ROLE_GRANT_PERMISSION, AUTH_ROLE_REVOKE_PERMISSION -> true;
      default -> false;
    };
  }

  /**
   * Applies one committed auth request; the answer carries {@code header}. Throws etcd's error
   * (the state is then unchanged). Deterministic: every member reaches the same state.
   */
  public Message apply(InternalRequest request, long raftIndex, ResponseHeader header) {
    AuthInfo who = request.hasAuth() ? authInfo(request.getAuth()) : null;
    switch (request.getRequestCase()) {
      case AUTH_USER_GET -> {
        if (who != null && !isAdmin(who) && !request.getAuthUserGet().getName().equals(who.username())) {
          checkAdmin(who);
        }
      }
      case AUTH_ROLE_GET -> {
        if (who != null && !isAdmin(who)) {
          User user = state.users.get(who.username());
          if (user == null || !user.getRolesList().contains(request.getAuthRoleGet().getRole())) {
            checkAdmin(who);
          }
        }
      }
      case AUTHENTICATE -> { }
      default -> {
        if (who != null) {
          checkAdmin(who);
        }
      }
    }
    return switch (request.getRequestCase()) {
      case AUTH_ENABLE -> {
        enable();
        yield AuthEnableResponse.newBuilder().setHeader(header).build();
      }
      case AUTH_DISABLE -> {
        disable();
        yield AuthDisableResponse.newBuilder().setHeader(header).build();
      }
      case AUTHENTICATE -> AuthenticateResponse.newBuilder().setHeader(header)
          .setToken(authenticate(request.getAuthenticate(), raftIndex)).build();
      case AUTH_USER_ADD -> {
        userAdd(request.getAuthUserAdd());
        yield AuthUserAddResponse.newBuilder().setHeader(header).build();
      }
      case AUTH_USER_DELETE -> {
        userDelete(request.getAuthUserDelete().getName());
        yield AuthUserDeleteResponse.newBuilder().setHeader(header).build();
      }
      case AUTH_USER_GET -> AuthUserGetResponse.newBuilder().setHeader(header)
          .addAllRoles(existingUser(request.getAuthUserGet().getName()).getRolesList()).build();
      case AUTH_USER_LIST -> AuthUserListResponse.newBuilder().setHeader(header).addAllUsers(state.users.keySet()).build();
      case AUTH_USER_CHANGE_PASSWORD -> {
        changePassword(request.getAuthUserChangePassword());
        yield AuthUserChangePasswordResponse.newBuilder().setHeader(header).build();
      }
      case AUTH_USER_GRANT_ROLE -> {
        grantRole(request.getAuthUserGrantRole().getUser(), request.getAuthUserGrantRole().getRole());
        yield AuthUserGrantRoleResponse.newBuilder().setHeader(header).build();
      }
      case AUTH_USER_REVOKE_ROLE -> {
        revokeRole(request.getAuthUserRevokeRole().getName(), request.getAuthUserRevokeRole().getRole());
        yield AuthUserRevokeRoleResponse.newBuilder().setHeader(header).build();
      }
      case AUTH_ROLE_ADD -> {
        roleAdd(request.getAuthRoleAdd().getName());
        yield AuthRoleAddResponse.newBuilder().setHeader(header).build();
      }
      case AUTH_ROLE_GET -> AuthRoleGetResponse.newBuilder().setHeader(header)
          .addAllPerm(existingRole(request.getAuthRoleGet().getRole()).getKeyPermissionList()).build();
      case AUTH_ROLE_LIST -> AuthRoleListResponse.newBuilder().setHeader(header).addAllRoles(state.roles.keySet()).build();
      case AUTH_ROLE_DELETE -> {
        roleDelete(request.getAuthRoleDelete().getRole());
        yield AuthRoleDeleteResponse.newBuilder().setHeader(header).build();
      }
      case AUTH_ROLE_GRANT_PERMISSION -> {
        if (!request.getAuthRoleGrantPermission().hasPerm()) {
          throw io.vetcd.errors.Errors.PERMISSION_NOT_GIVEN; // etcd 3.4.23 crashes here; 3.5 answers this, when applying
        }
        grantPermission(request.getAuthRoleGrantPermission().getName(), request.getAuthRoleGrantPermission().getPerm());
        yield AuthRoleGrantPermissionResponse.newBuilder().setHeader(header).build();
      }
      case AUTH_ROLE_REVOKE_PERMISSION -> {
        AuthRoleRevokePermissionRequest r = request.getAuthRoleRevokePermission();
        revokePermission(r.getRole(), r.getKey(), r.getRangeEnd());
        yield AuthRoleRevokePermissionResponse.newBuilder().setHeader(header).build();
      }
      default -> throw new IllegalArgumentException("not an auth request: " + request.getRequestCase());
    };
  }

  private void enable() {
    State s = state;
    if (s.enabled) {
      return;
    }
    User root = s.users.get(ROOT_USER);
    if (root == null) {
      throw AuthErrors.ROOT_USER_NOT_EXIST;
    }
    if (!hasRootRole(root)) {
      throw AuthErrors.ROOT_ROLE_NOT_EXIST;
    }
    table.put(ENABLED_KEY, new byte[] {1});
    publish(State.of(true, s.revision, s.users, s.roles));
  }

  private void disable() {
    State s = state;
    if (!s.enabled) {
      return;
    }
    table.put(ENABLED_KEY, new byte[] {0});
    tokens.clear();
    commit(State.of(false, s.revision, s.users, s.roles));
  }

  private String authenticate(InternalAuthenticateRequest r, long raftIndex) {
    State s = state;
    if (!s.enabled) {
      throw AuthErrors.AUTH_NOT_ENABLED;
    }
    User user = s.users.get(r.getName());
    if (user == null || user.getOptions().getNoPassword()) {
      throw AuthErrors.AUTH_FAILED;
    }
    return tokens.issue(r.getSimpleToken(), raftIndex, r.getName(), s.revision);
  }

  private void userAdd(AuthUserAddRequest r) {
    if (r.getName().isEmpty()) {
      throw AuthErrors.USER_EMPTY;
    }
    State s = state;
    if (s.users.containsKey(r.getName())) {
      throw AuthErrors.USER_ALREADY_EXIST;
    }
    User.Builder user = User.newBuilder().setName(ByteString.copyFromUtf8(r.getName()))
        .setOptions(r.getOptions());
    if (!r.getOptions().getNoPassword()) {
      if (r.getHashedPassword().isEmpty()) {
        // Frontends always send the hash; a plain password must never be stored.
        throw new IllegalArgumentException("user add without a password hash");
      }
      user.setPassword(ByteString.copyFromUtf8(r.getHashedPassword()));
    }
    commit(withUser(s, user.build()));
  }

  private void userDelete(String name) {
    State s = state;
    if (s.enabled && name.equals(ROOT_USER)) {
      throw AuthErrors.INVALID_AUTH_MGMT;
    }
    existingUser(name);
    SortedMap<String, User> users = new TreeMap<>(s.users);
    users.remove(name);
    table.remove(USER_PREFIX + name);
    tokens.invalidateUser(name);
    commit(State.of(s.enabled, s.revision, Collections.unmodifiableSortedMap(users), s.roles));
  }

  private void changePassword(AuthUserChangePasswordRequest r) {
    User user = existingUser(r.getName());
    if (r.getHashedPassword().isEmpty()) {
      throw new IllegalArgumentException("change password without a password hash");
    }
    User changed = user.toBuilder().setPassword(ByteString.copyFromUtf8(r.getHashedPassword())).build();
    tokens.invalidateUser(r.getName());
    commit(withUser(state, changed));
  }

  private void grantRole(String userName, String roleName) {
    User user = existingUser(userName);
    State s = state;
    if (!roleName.equals(ROOT_ROLE) && !s.roles.containsKey(roleName)) {
      throw AuthErrors.ROLE_NOT_FOUND;
    }
    if (user.getRolesList().contains(roleName)) {
      return; // etcd ignores a grant of a role the user already has
    }
    List<String> roles = new ArrayList<>(user.getRolesList());
    roles.add(roleName);
    Collections.sort(roles);
    commit(withUser(s, user.toBuilder().clearRoles().addAllRoles(roles).build()));
  }

  private void revokeRole(String userName, String roleName) {
    State s = state;
    if (s.enabled && userName.equals(ROOT_USER) && roleName.equals(ROOT_ROLE)) {
      throw AuthErrors.INVALID_AUTH_MGMT;
    }
    User user = existingUser(userName);
    List<String> roles = new ArrayList<>(user.getRolesList());
    if (!roles.remove(roleName)) {
      throw AuthErrors.ROLE_NOT_GRANTED;
    }
    commit(withUser(s, user.toBuilder().clearRoles().addAllRoles(roles).build()));
  }

  private void roleAdd(String name) {
    if (name.isEmpty()) {
      throw AuthErrors.ROLE_EMPTY;
    }
    State s = state;
    if (s.roles.containsKey(name)) {
      throw AuthErrors.ROLE_ALREADY_EXIST;
    }
    commit(withRole(s, Role.newBuilder().setName(ByteString.copyFromUtf8(name)).build()));
  }

  private void roleDelete(String name) {
    State s = state;
    if (s.enabled && name.equals(ROOT_ROLE)) {
      throw AuthErrors.INVALID_AUTH_MGMT;
    }
    existingRole(name);
    SortedMap<String, Role> roles = new TreeMap<>(s.roles);
    roles.remove(name);
    table.remove(ROLE_PREFIX + name);
    SortedMap<String, User> users = new TreeMap<>(s.users);
    for (User user : s.users.values()) {
      if (user.getRolesList().contains(name)) {
        List<String> kept = new ArrayList<>(user.getRolesList());
        kept.remove(name);
        User updated = user.toBuilder().clearRoles().addAllRoles(kept).build();
        users.put(user.getName().toStringUtf8(), updated);
        table.put(USER_PREFIX + user.getName().toStringUtf8(), updated.toByteArray());
      }
    }
    commit(State.of(s.enabled, s.revision, Collections.unmodifiableSortedMap(users),
        Collections.unmodifiableSortedMap(roles)));
  }

  private void grantPermission(String roleName, Permission perm) {
    Role role = existingRole(roleName);
    List<Permission> perms = new ArrayList<>(role.getKeyPermissionList());
    boolean updated = false;
    for (int i = 0; i < perms.size(); i++) {
      Permission p = perms.get(i);
      if (p.getKey().equals(perm.getKey()) && p.getRangeEnd().equals(perm.getRangeEnd())) {
        perms.set(i, p.toBuilder().setPermTypeValue(perm.getPermTypeValue()).build());
        updated = true;
        break;
      }
    }
    if (!updated) {
      perms.add(Permission.newBuilder().setKey(perm.getKey()).setRangeEnd(perm.getRangeEnd())
          .setPermTypeValue(perm.getPermTypeValue()).build()); // as etcd, an unknown type is kept as its number
      // etcd keeps a role's permissions sorted by key
      perms.sort((a, b) -> KeyOrder.INSTANCE.compare(a.getKey(), b.getKey()));
    }
    commit(withRole(state, role.toBuilder().clearKeyPermission().addAllKeyPermission(perms).build()));
  }

  private void revokePermission(String roleName, ByteString key, ByteString rangeEnd) {
    Role role = existingRole(roleName);
    List<Permission> kept = new ArrayList<>();
    for (Permission p : role.getKeyPermissionList()) {
      if (!(p.getKey().equals(key) && p.getRangeEnd().equals(rangeEnd))) {
        kept.add(p);
      }
    }
    if (kept.size() == role.getKeyPermissionCount()) {
      throw AuthErrors.PERMISSION_NOT_GRANTED;
    }
    commit(withRole(state, role.toBuilder().clearKeyPermission().addAllKeyPermission(kept).build()));
  }

  private User existingUser(String name) {
    User user = state.users.get(name);
    if (user == null) {
      throw AuthErrors.USER_NOT_FOUND;
    }
    return user;
  }

  private Role existingRole(String name) {
    Role role = state.roles.get(name);
    if (role == null) {
      throw AuthErrors.ROLE_NOT_FOUND;
    }
    return role;
  }

  private State withUser(State s, User user) {
    String name = user.getName().toStringUtf8();
    SortedMap<String, User> users = new TreeMap<>(s.users);
    users.put(name, user);
    table.put(USER_PREFIX + name, user.toByteArray());
    return State.of(s.enabled, s.revision, Collections.unmodifiableSortedMap(users), s.roles);
  }

  private State withRole(State s, Role role) {
    String name = role.getName().toStringUtf8();
    SortedMap<String, Role> roles = new TreeMap<>(s.roles);
    roles.put(name, role);
    table.put(ROLE_PREFIX + name, role.toByteArray());
    return State.of(s.enabled, s.revision, s.users, Collections.unmodifiableSortedMap(roles));
  }

  /** Publishes a changed state with the next auth revision (etcd's commitRevision). */
  private void commit(State next) {
    long revision = next.revision + 1;
    table.put(REVISION_KEY, ByteBuffer.allocate(8).putLong(revision).array());
    publish(State.of(next.enabled, revision, next.users, next.roles));
  }

  private void publish(State next) {
    state = next;
  }
}
