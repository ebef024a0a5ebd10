package io.vetcd.auth;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import io.vetcd.errors.EtcdException;
import io.vetcd.pb.*;
import io.vetcd.pb.internal.AuthHeader;
import io.vetcd.pb.internal.InternalAuthenticateRequest;
import io.vetcd.pb.internal.InternalRequest;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AuthStoreTest {
  static final ResponseHeader HEADER = ResponseHeader.newBuilder().setRevision(7).build();
  static final Passwords PASSWORDS = new Passwords(4);
  static final LongFunction<Collection<ByteString>> NO_LEASES = id -> List.of();

  final Map<String, byte[]> table = new HashMap<>();
  final AtomicLong clock = new AtomicLong();
  AuthStore store;
  long index;

  static ByteString k(String s) {
    return ByteString.copyFromUtf8(s);
  }

  @BeforeEach
  void fresh() {
    store = new AuthStore(table, new SimpleTokens(clock::get, 300_000));
  }

  /** Applies as the member's own request (no caller: no admin check), as a raft entry would be. */
  Object apply(InternalRequest.Builder r) {
    return store.apply(r.build(), ++index, HEADER);
  }

  Object applyAs(AuthInfo who, InternalRequest.Builder r) {
    return store.apply(r.setAuth(AuthHeader.newBuilder().setUsername(who.username()).setRevision(who.revision())).build(),
        ++index, HEADER);
  }

  static InternalRequest.Builder req() {
    return InternalRequest.newBuilder();
  }

  void addUser(String name, String password) {
    apply(req().setAuthUserAdd(AuthUserAddRequest.newBuilder().setName(name).setHashedPassword(PASSWORDS.hash(password))));
  }

  void grant(String role, Permission.Type type, String key, String end) {
    apply(req().setAuthRoleGrantPermission(AuthRoleGrantPermissionRequest.newBuilder().setName(role)
        .setPerm(Permission.newBuilder().setPermType(type).setKey(k(key)).setRangeEnd(k(end)))));
  }

  /** root:pw with the root role, auth enabled, user u with role r: readwrite foo/ prefix, read bar. */
  void walkthrough() {
    addUser("root", "pw");
    apply(req().setAuthUserGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("root").setRole("root")));
    apply(req().setAuthEnable(AuthEnableRequest.getDefaultInstance()));
    addUser("u", "upw");
    apply(req().setAuthRoleAdd(AuthRoleAddRequest.newBuilder().setName("r")));
    grant("r", Permission.Type.READWRITE, "foo/", "foo0");
    grant("r", Permission.Type.READ, "bar", "");
    apply(req().setAuthUserGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("u").setRole("r")));
  }

  AuthInfo login(String name, String password) {
    store.checkPassword(name, password);
    AuthenticateResponse r = (AuthenticateResponse) apply(req().setAuthenticate(
        InternalAuthenticateRequest.newBuilder().setName(name).setSimpleToken(store.tokens().newPrefix())));
    assertTrue(r.getToken().endsWith("." + index), r.getToken());
    return store.authInfo(r.getToken());
  }

  static void assertError(EtcdException expected, Runnable r) {
    EtcdException e = assertThrows(EtcdException.class, r::run);
    assertEquals(expected.getMessage(), e.getMessage());
    assertEquals(expected.code(), e.code());
  }

  @Test
  void enable_needs_a_root_user_with_the_root_role() {
    assertError(AuthErrors.ROOT_USER_NOT_EXIST, () -> apply(req().setAuthEnable(AuthEnableRequest.getDefaultInstance())));
    addUser("root", "pw");
    assertError(AuthErrors.ROOT_ROLE_NOT_EXIST, () -> apply(req().setAuthEnable(AuthEnableRequest.getDefaultInstance())));
    apply(req().setAuthUserGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("root").setRole("root")));
    apply(req().setAuthEnable(AuthEnableRequest.getDefaultInstance()));
    assertTrue(store.enabled());
  }

  @Test
  void user_and_role_management_errors_are_etcds() {
    assertError(AuthErrors.USER_EMPTY, () -> addUser("", "x"));
    assertError(AuthErrors.ROLE_EMPTY, () -> apply(req().setAuthRoleAdd(AuthRoleAddRequest.newBuilder().setName(""))));
    assertError(AuthErrors.USER_NOT_FOUND, () -> apply(req().setAuthUserGet(AuthUserGetRequest.newBuilder().setName("x"))));
    assertError(AuthErrors.ROLE_NOT_FOUND, () -> apply(req().setAuthRoleGet(AuthRoleGetRequest.newBuilder().setRole("x"))));
    addUser("a", "x");
    assertError(AuthErrors.USER_ALREADY_EXIST, () -> addUser("a", "y"));
    apply(req().setAuthRoleAdd(AuthRoleAddRequest.newBuilder().setName("r")));
    assertError(AuthErrors.ROLE_ALREADY_EXIST, () -> apply(req().setAuthRoleAdd(AuthRoleAddRequest.newBuilder().setName("r"))));
    assertError(AuthErrors.ROLE_NOT_FOUND,
        () -> apply(req().setAuthUserGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("a").setRole("nope"))));
    assertError(AuthErrors.USER_NOT_FOUND,
        () -> apply(req().setAuthUserGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("nope").setRole("r"))));
    assertError(AuthErrors.ROLE_NOT_GRANTED,
        () -> apply(req().setAuthUserRevokeRole(AuthUserRevokeRoleRequest.newBuilder().setName("a").setRole("r"))));
    assertError(AuthErrors.PERMISSION_NOT_GRANTED, () -> apply(req().setAuthRoleRevokePermission(
        AuthRoleRevokePermissionRequest.newBuilder().setRole("r").setKey(k("k")))));
  }

  @Test
  void grants_are_idempotent_and_permissions_kept_sorted_by_key() {
    addUser("a", "x");
    apply(req().setAuthRoleAdd(AuthRoleAddRequest.newBuilder().setName("r")));
    apply(req().setAuthUserGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("a").setRole("r")));
    apply(req().setAuthUserGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("a").setRole("r")));
    apply(req().setAuthUserGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("a").setRole("root")));
    AuthUserGetResponse user = (AuthUserGetResponse) apply(req().setAuthUserGet(AuthUserGetRequest.newBuilder().setName("a")));
    assertEquals(List.of("r", "root"), user.getRolesList());
    assertEquals(HEADER, user.getHeader());
    grant("r", Permission.Type.WRITE, "m", "");
    grant("r", Permission.Type.READ, "b", "c");
    grant("r", Permission.Type.READWRITE, "m", ""); // same key and end: updated in place
    AuthRoleGetResponse role = (AuthRoleGetResponse) apply(req().setAuthRoleGet(AuthRoleGetRequest.newBuilder().setRole("r")));
    assertEquals(2, role.getPermCount());
    assertEquals(k("b"), role.getPerm(0).getKey());
    assertEquals(Permission.Type.READWRITE, role.getPerm(1).getPermType());
  }

  @Test
  void root_cannot_lose_root_while_auth_is_enabled() {
    walkthrough();
    assertError(AuthErrors.INVALID_AUTH_MGMT, () -> apply(req().setAuthUserDelete(AuthUserDeleteRequest.newBuilder().setName("root"))));
    assertError(AuthErrors.INVALID_AUTH_MGMT,
        () -> apply(req().setAuthUserRevokeRole(AuthUserRevokeRoleRequest.newBuilder().setName("root").setRole("root"))));
    assertError(AuthErrors.INVALID_AUTH_MGMT, () -> apply(req().setAuthRoleDelete(AuthRoleDeleteRequest.newBuilder().setRole("root"))));
  }

  @Test
  void authenticate_checks_the_password_and_issues_a_token_naming_the_user() {
    assertError(AuthErrors.AUTH_NOT_ENABLED, () -> store.checkPassword("root", "pw"));
    walkthrough();
    assertError(AuthErrors.AUTH_FAILED, () -> store.checkPassword("u", "bad"));
    assertError(AuthErrors.AUTH_FAILED, () -> store.checkPassword("nobody", "upw"));
    // etcd's own words (and no gRPC code) for a user added with --no-password
    apply(req().setAuthUserAdd(AuthUserAddRequest.newBuilder().setName("nopw")
        .setOptions(io.vetcd.pb.UserAddOptions.newBuilder().setNoPassword(true))));
    assertError(AuthErrors.NO_PASSWORD_USER, () -> store.checkPassword("nopw", "x"));
    assertEquals("auth: authentication failed, password was given for no password user",
        AuthErrors.NO_PASSWORD_USER.getMessage());
    AuthInfo u = login("u", "upw");
    assertEquals("u", u.username());
    assertEquals(store.revision(), u.revision());
    assertError(AuthErrors.INVALID_AUTH_TOKEN, () -> store.authInfo("forged.1"));
    assertSame(AuthInfo.ANONYMOUS, store.authInfo(null));
  }

  @Test
  void a_permission_of_an_unknown_type_is_kept_as_its_number_as_etcd_keeps_it() {
    apply(req().setAuthRoleAdd(AuthRoleAddRequest.newBuilder().setName("rb")));
    apply(req().setAuthRoleGrantPermission(AuthRoleGrantPermissionRequest.newBuilder().setName("rb")
        .setPerm(Permission.newBuilder().setPermTypeValue(7).setKey(k("x")))));
    AuthRoleGetResponse role = (AuthRoleGetResponse) apply(req().setAuthRoleGet(AuthRoleGetRequest.newBuilder().setRole("rb")));
    assertEquals(7, role.getPerm(0).getPermTypeValue());
  }

  @Test
  void a_token_expires_after_its_ttl_unused() {
    walkthrough();
    AuthenticateResponse r = (AuthenticateResponse) apply(req().setAuthenticate(
        InternalAuthenticateRequest.newBuilder().setName("u").setSimpleToken("abcdefghijklmnop")));
    clock.addAndGet(299_000);
    assertEquals("u", store.authInfo(r.getToken()).username());
    clock.addAndGet(300_000);
    assertError(AuthErrors.INVALID_AUTH_TOKEN, () -> store.authInfo(r.getToken()));
  }

  @Test
  void password_change_user_delete_and_disable_invalidate_tokens() {
    walkthrough();
    String token = ((AuthenticateResponse) apply(req().setAuthenticate(
        InternalAuthenticateRequest.newBuilder().setName("u").setSimpleToken("a")))).getToken();
    apply(req().setAuthUserChangePassword(AuthUserChangePasswordRequest.newBuilder().setName("u")
        .setHashedPassword(PASSWORDS.hash("np"))));
    assertError(AuthErrors.INVALID_AUTH_TOKEN, () -> store.authInfo(token));
    assertError(AuthErrors.AUTH_FAILED, () -> store.checkPassword("u", "upw"));
    store.checkPassword("u", "np");
    String rootToken = ((AuthenticateResponse) apply(req().setAuthenticate(
        InternalAuthenticateRequest.newBuilder().setName("root").setSimpleToken("b")))).getToken();
    apply(req().setAuthDisable(AuthDisableRequest.getDefaultInstance()));
    assertError(AuthErrors.INVALID_AUTH_TOKEN, () -> store.authInfo(rootToken));
  }

  @Test
  void kv_permissions_follow_the_roles() {
    walkthrough();
    AuthInfo u = login("u", "upw");
    store.checkRange(u, k("foo/a"), ByteString.EMPTY);
    store.checkRange(u, k("foo/"), k("foo0"));
    store.checkPut(u, k("foo/a"));
    store.checkRange(u, k("bar"), ByteString.EMPTY);
    assertError(AuthErrors.PERMISSION_DENIED, () -> store.checkPut(u, k("bar")));
    assertError(AuthErrors.PERMISSION_DENIED, () -> store.checkRange(u, k("other"), ByteString.EMPTY));
    assertError(AuthErrors.PERMISSION_DENIED, () -> store.checkRange(u, k("\0"), k("\0")));
    assertError(AuthErrors.USER_EMPTY, () -> store.checkRange(AuthInfo.ANONYMOUS, k("foo/a"), ByteString.EMPTY));
    AuthInfo root = login("root", "pw");
    store.checkDeleteRange(root, k("\0"), k("\0"));
  }

  @Test
  void revoking_a_permission_or_deleting_a_role_takes_effect_at_once() {
    walkthrough();
    store.checkRange(login("u", "upw"), k("foo/a"), ByteString.EMPTY);
    apply(req().setAuthRoleRevokePermission(AuthRoleRevokePermissionRequest.newBuilder().setRole("r")
        .setKey(k("foo/")).setRangeEnd(k("foo0"))));
    AuthInfo u = login("u", "upw");
    assertError(AuthErrors.PERMISSION_DENIED, () -> store.checkRange(u, k("foo/a"), ByteString.EMPTY));
    store.checkRange(u, k("bar"), ByteString.EMPTY);
    apply(req().setAuthRoleDelete(AuthRoleDeleteRequest.newBuilder().setRole("r")));
    AuthInfo again = login("u", "upw");
    assertError(AuthErrors.PERMISSION_DENIED, () -> store.checkRange(again, k("bar"), ByteString.EMPTY));
    AuthUserGetResponse user = (AuthUserGetResponse) apply(req().setAuthUserGet(AuthUserGetRequest.newBuilder().setName("u")));
    assertEquals(List.of(), user.getRolesList(), "a deleted role is revoked from its users");
  }

  @Test
  void a_request_checked_before_an_auth_change_fails_with_old_revision() {
    walkthrough();
    AuthInfo u = login("u", "upw");
    apply(req().setAuthRoleAdd(AuthRoleAddRequest.newBuilder().setName("other")));
    assertError(AuthErrors.AUTH_OLD_REVISION, () -> store.checkPut(u, k("foo/a")));
  }

  @Test
  void txn_checks_compares_as_reads_and_every_op_in_both_branches() {
    walkthrough();
    AuthInfo u = login("u", "upw");
    RequestOp putFoo = RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(k("foo/b"))).build();
    RequestOp getBar = RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(k("bar"))).build();
    RequestOp getOther = RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(k("other"))).build();
    RequestOp delBarPrev = RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(k("foo/x"))
        .setPrevKv(true)).build();
    store.checkTxn(u, TxnRequest.newBuilder().addSuccess(putFoo).addFailure(getBar).addSuccess(delBarPrev).build());
    assertError(AuthErrors.PERMISSION_DENIED,
        () -> store.checkTxn(u, TxnRequest.newBuilder().addSuccess(putFoo).addFailure(getOther).build()));
    assertError(AuthErrors.PERMISSION_DENIED, () -> store.checkTxn(u, TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(k("other"))).addSuccess(putFoo).build()));
    TxnRequest nested = TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder()
        .setRequestTxn(TxnRequest.newBuilder().addFailure(getOther))).build();
    assertError(AuthErrors.PERMISSION_DENIED, () -> store.checkTxn(u, nested));
  }

  @Test
  void apply_time_checks_cover_prev_kv_leases_and_revoke() {
    walkthrough();
    AuthInfo u = login("u", "upw");
    AuthHeader header = AuthHeader.newBuilder().setUsername("u").setRevision(u.revision()).build();
    LongFunction<Collection<ByteString>> leases = id -> id == 1 ? List.of(k("foo/a"), k("foo/b")) : List.of(k("foo/a"), k("bar"));
    store.checkApply(req().setAuth(header).setPut(PutRequest.newBuilder().setKey(k("foo/a")).setLease(1)).build(), leases);
    assertError(AuthErrors.PERMISSION_DENIED, () -> store.checkApply(
        req().setAuth(header).setPut(PutRequest.newBuilder().setKey(k("foo/a")).setLease(2)).build(), leases));
    store.checkApply(req().setAuth(header).setLeaseRevoke(LeaseRevokeRequest.newBuilder().setID(1)).build(), leases);
    assertError(AuthErrors.PERMISSION_DENIED, () -> store.checkApply(
        req().setAuth(header).setLeaseRevoke(LeaseRevokeRequest.newBuilder().setID(2)).build(), leases));
    // the member's own revoke (lease expiry) carries no caller and passes
    store.checkApply(req().setLeaseRevoke(LeaseRevokeRequest.newBuilder().setID(2)).build(), leases);
    grant("r", Permission.Type.WRITE, "w", "");
    AuthInfo u2 = login("u", "upw");
    AuthHeader h2 = AuthHeader.newBuilder().setUsername("u").setRevision(u2.revision()).build();
    store.checkApply(req().setAuth(h2).setPut(PutRequest.newBuilder().setKey(k("w"))).build(), NO_LEASES);
    assertError(AuthErrors.PERMISSION_DENIED, () -> store.checkApply(
        req().setAuth(h2).setPut(PutRequest.newBuilder().setKey(k("w")).setPrevKv(true)).build(), NO_LEASES));
    assertError(AuthErrors.USER_EMPTY, () -> store.checkApply(
        req().setAuth(AuthHeader.getDefaultInstance()).setPut(PutRequest.newBuilder().setKey(k("foo/a"))).build(), NO_LEASES));
  }

  @Test
  void admin_calls_need_root_but_users_may_read_themselves_and_their_roles() {
    walkthrough();
    AuthInfo u = login("u", "upw");
    assertError(AuthErrors.PERMISSION_DENIED,
        () -> applyAs(u, req().setAuthRoleAdd(AuthRoleAddRequest.newBuilder().setName("z"))));
    assertError(AuthErrors.PERMISSION_DENIED, () -> applyAs(u, req().setAuthUserList(AuthUserListRequest.getDefaultInstance())));
    assertError(AuthErrors.PERMISSION_DENIED,
        () -> applyAs(u, req().setAuthUserGet(AuthUserGetRequest.newBuilder().setName("root"))));
    assertError(AuthErrors.PERMISSION_DENIED,
        () -> applyAs(u, req().setAuthRoleGet(AuthRoleGetRequest.newBuilder().setRole("root"))));
    applyAs(u, req().setAuthUserGet(AuthUserGetRequest.newBuilder().setName("u")));
    applyAs(u, req().setAuthRoleGet(AuthRoleGetRequest.newBuilder().setRole("r")));
    assertError(AuthErrors.USER_EMPTY,
        () -> applyAs(AuthInfo.ANONYMOUS, req().setAuthUserList(AuthUserListRequest.getDefaultInstance())));
    AuthInfo root = login("root", "pw");
    AuthUserListResponse users = (AuthUserListResponse) applyAs(root, req().setAuthUserList(AuthUserListRequest.getDefaultInstance()));
    assertEquals(List.of("root", "u"), users.getUsersList());
    assertError(AuthErrors.USER_NOT_FOUND, () -> store.checkAdmin(new AuthInfo("ghost", root.revision())));
  }

  @Test
  void the_state_survives_a_reload_from_its_table() {
    walkthrough();
    long revision = store.revision();
    AuthStore reloaded = new AuthStore(table, new SimpleTokens(clock::get, 300_000));
    assertTrue(reloaded.enabled());
    assertEquals(revision, reloaded.revision());
    reloaded.checkPassword("u", "upw");
    assertEquals(List.of("r"), reloaded.user("u").orElseThrow().getRolesList());
    assertTrue(table.keySet().stream().noneMatch(key -> new String(table.get(key)).contains("upw")), "no clear-text password");
  }

  @Test
  void a_fresh_store_is_disabled_at_revision_one_and_every_change_bumps_it() {
    assertFalse(store.enabled());
    assertEquals(1, store.revision());
    addUser("a", "x");
    assertEquals(2, store.revision());
    apply(req().setAuthUserList(AuthUserListRequest.getDefaultInstance()));
    assertEquals(2, store.revision(), "reads do not bump the revision");
  }
}
