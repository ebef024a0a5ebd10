package io.vetcd.api;

import com.google.protobuf.Message;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import io.vetcd.auth.AuthErrors;
import io.vetcd.auth.AuthInfo;
import io.vetcd.auth.AuthStore;
import io.vetcd.auth.Passwords;
import io.vetcd.errors.EtcdException;
import io.vetcd.pb.AuthStatusResponse;
import io.vetcd.pb.AuthUserAddRequest;
import io.vetcd.pb.AuthUserChangePasswordRequest;
import io.vetcd.pb.AuthenticateRequest;
import io.vetcd.pb.DefragmentRequest;
import io.vetcd.pb.HashKVRequest;
import io.vetcd.pb.HashRequest;
import io.vetcd.pb.RangeRequest;
import io.vetcd.pb.SnapshotRequest;
import io.vetcd.pb.WatchCreateRequest;
import io.vetcd.pb.WatchResponse;
import io.vetcd.pb.internal.AuthHeader;
import io.vetcd.pb.internal.InternalAuthenticateRequest;
import io.vetcd.pb.internal.InternalRequest;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The frontends' side of auth (gRPC and the HTTP gateway): who a call's token names, the checks
 * etcd makes before a request reaches raft (reads, watches, maintenance), stamping writes with the
 * caller so the apply layer checks them, and the slow bcrypt work kept off the event loops.
 *
 * <p>The caller of the request being handled is kept in {@link #callerScope} for the synchronous
 * part of a unary handler, so the shared {@code write}/{@code read} plumbing can stamp and check it
 * without every handler passing it along. The token is resolved only when a check needs it: as in
 * etcd, calls that check nothing (Authenticate, MemberList, Status, LeaseTimeToLive, ...) succeed even
 * with a stale token, so a client can log in again.
 */
public final class AuthGate {
  private static final String MAP = "vetcd.auth";
  private static final String STORE = "store";
  /** gRPC metadata carrying the token; the gateway's {@code Authorization} header arrives as the second. */
  public static final String TOKEN_METADATA = "token";
  public static final String AUTHORIZATION_HEADER = "authorization";

  private static final ThreadLocal<Supplier<AuthInfo>> CALLER = new ThreadLocal<>();

  private record Holder(AuthStore store, Passwords passwords) implements Shareable {}

  private final Vertx vertx;

  public AuthGate(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Called by the composition root: the store and password hasher the frontends use. */
  public static void install(Vertx vertx, AuthStore store, Passwords passwords) {
    map(vertx).put(STORE, new Holder(store, passwords));
  }

  private static LocalMap<String, Holder> map(Vertx vertx) {
    return vertx.sharedData().getLocalMap(MAP);
  }

  private Holder holder() {
    return map(vertx).get(STORE);
  }

  private AuthStore store() {
    Holder h = holder();
    if (h == null) {
      throw new IllegalStateException("auth store not installed");
    }
    return h.store;
  }

  public boolean installed() {
    return holder() != null;
  }

  // ---- who is calling ----

  /** The token of a call: gRPC metadata {@code token}, else the {@code Authorization} header. */
  public static String token(MultiMap headers) {
    String token = headers.get(TOKEN_METADATA);
    return token != null ? token : headers.get(AUTHORIZATION_HEADER);
  }

  /**
   * Who a token names ({@code null}: anonymous); throws "etcdserver: invalid auth token"
   * (Unauthenticated) for a token this member does not know. For the HTTP gateway: pass the
   * {@code Authorization} header's value.
   */
  public AuthInfo authInfo(String token) {
    Holder h = holder();
    return h == null ? AuthInfo.ANONYMOUS : h.store.authInfo(token);
  }

  public AuthInfo authInfo(MultiMap headers) {
    return authInfo(token(headers));
  }

  /**
   * Runs the synchronous part of a handler with the call's token (null: none) as the caller seen
   * by {@link #caller()}. For the gateway: the {@code Authorization} header's value.
   */
  public <T> T callerScope(String token, Supplier<T> handler) {
    AuthInfo[] resolved = new AuthInfo[1];
    return callerScope(() -> {
      if (resolved[0] == null) {
        resolved[0] = authInfo(token);
      }
      return resolved[0];
    }, handler);
  }

  private static <T> T callerScope(Supplier<AuthInfo> who, Supplier<T> handler) {
    Supplier<AuthInfo> outer = CALLER.get();
    CALLER.set(who);
    try {
      return handler.get();
    } finally {
      if (outer == null) {
        CALLER.remove();
      } else {
        CALLER.set(outer);
      }
    }
  }

  /**
   * The caller of the client request being handled on this thread, or null outside one. Throws
   * "etcdserver: invalid auth token" if the call's token is unknown.
   */
  public static AuthInfo caller() {
    Supplier<AuthInfo> who = CALLER.get();
    return who == null ? null : who.get();
  }

  /**
   * The caller of the client request being handled on this thread, resolved when first asked (so
   * an unknown token fails the step that needs it), or null outside a client call.
   */
  public static Supplier<AuthInfo> callerLater() {
    return CALLER.get();
  }

  // ---- checks before raft ----

  /**
   * Marks a client's write with its caller, so the apply layer checks its permissions (every
   * member, at the same point of the log). Outside a client call (the member's own requests) the
   * request is left unmarked.
   */
  public static InternalRequest stamp(InternalRequest request) {
    return stamp(request, caller());
  }

  /** {@link #stamp(InternalRequest)} for a caller captured earlier (after an asynchronous step). */
  public static InternalRequest stamp(InternalRequest request, AuthInfo who) {
    if (who == null || request.hasAuth()) {
      return request;
    }
    return request.toBuilder()
        .setAuth(AuthHeader.newBuilder().setUsername(who.username()).setRevision(who.revision())).build();
  }

  /**
   * The checks etcd makes on a read before serving it: Range needs READ over its range, a read-only
   * Txn READ over its compares and ranges; Hash, HashKV, Defragment and Snapshot need root (answered
   * with the auth store's bare error, code Unknown, as etcd 3.4's maintenance service does). Other
   * reads are open.
   */
  public void checkRead(Message request) {
    checkRead(request, caller());
  }

  /** {@link #checkRead(Message)} for a caller captured earlier (after an asynchronous step). */
  public void checkRead(Message request, AuthInfo who) {
    boolean keys = request instanceof RangeRequest || request instanceof io.vetcd.pb.TxnRequest;
    boolean maintenance = request instanceof HashRequest || request instanceof HashKVRequest
        || request instanceof DefragmentRequest || request instanceof SnapshotRequest;
    if (!keys && !maintenance) {
      return;
    }
    Holder h = holder();
    if (who == null || h == null || !h.store.enabled()) {
      return;
    }
    if (request instanceof RangeRequest r) {
      h.store.checkRange(who, r.getKey(), r.getRangeEnd());
    } else if (request instanceof io.vetcd.pb.TxnRequest txn) {
      h.store.checkTxn(who, txn);
    } else {
      checkMaintenance(who);
    }
  }

  /**
   * etcd's check before a membership change (add, remove, update, promote): root when auth is on,
   * answered with the auth store's own errors (user name is empty, permission denied...), as etcd's.
   */
  public void checkMembershipChange() {
    Holder h = holder();
    if (h == null || !h.store.enabled()) {
      return;
    }
    h.store.checkAdmin(caller());
  }

  /** Root only, with etcd 3.4's maintenance errors ("auth: permission denied", code Unknown). */
  public void checkMaintenance(AuthInfo who) {
    try {
      store().checkAdmin(who);
    } catch (EtcdException e) {
      if (e == AuthErrors.USER_EMPTY) {
        throw AuthErrors.MAINTENANCE_USER_EMPTY;
      }
      if (e == AuthErrors.USER_NOT_FOUND) {
        throw AuthErrors.MAINTENANCE_USER_NOT_FOUND;
      }
      throw AuthErrors.MAINTENANCE_PERMISSION_DENIED;
    }
  }

  /**
   * A watch may be created only over keys its user may read; when it may not, etcd answers with
   * this response (created and canceled at once) instead of creating it. Null: permitted.
   * {@code who} null means the stream's token was invalid, which etcd also refuses this way.
   */
  public WatchResponse refuseWatch(AuthInfo who, WatchCreateRequest create) {
    Holder h = holder();
    if (h == null || !h.store.enabled()) {
      return null;
    }
    try {
      if (who == null) {
        throw AuthErrors.PERMISSION_DENIED;
      }
      h.store.checkRange(who, create.getKey(), create.getRangeEnd());
      return null;
    } catch (EtcdException e) {
      // The watch verticle adds the header (etcd's Go client dereferences it). The reason is the
      // gRPC error's text, as etcd sends it: user name is empty without a token, else permission denied.
      return WatchResponse.newBuilder().setWatchId(-1).setCreated(true).setCanceled(true)
          .setCancelReason("rpc error: code = " + e.code().goName() + " desc = " + e.getMessage()).build();
    }
  }

  // ---- auth calls that need work before raft ----

  public AuthStatusResponse status() {
    Holder h = holder();
    return AuthStatusResponse.newBuilder().setEnabled(h != null && h.store.enabled())
        .setAuthRevision(h == null ? 0 : h.store.revision()).build();
  }

  /**
   * etcd's Authenticate: the password is checked here (bcrypt, on a worker thread), then an entry
   * goes through raft that gives every member the new token. {@code write} proposes the entry.
   */
  public Future<Object> authenticate(AuthenticateRequest r, Function<InternalRequest, Future<Object>> write) {
    AuthStore store = store();
    if (!store.enabled()) {
      return Future.failedFuture(AuthErrors.AUTH_NOT_ENABLED);
    }
    return vertx.executeBlocking(() -> store.checkPassword(r.getName(), r.getPassword()), false)
        .compose(checked -> write.apply(InternalRequest.newBuilder().setAuthenticate(InternalAuthenticateRequest.newBuilder()
            .setName(r.getName()).setSimpleToken(store.tokens().newPrefix())).build()));
  }

  /** UserAdd with the password replaced by its bcrypt hash (computed on a worker thread). */
  public Future<InternalRequest> userAdd(AuthUserAddRequest r) {
    AuthInfo who = caller();
    if (r.getOptions().getNoPassword() || !r.getHashedPassword().isEmpty()) {
      return Future.succeededFuture(stamp(InternalRequest.newBuilder().setAuthUserAdd(r.toBuilder().clearPassword()).build(), who));
    }
    Passwords passwords = holder().passwords;
    return vertx.executeBlocking(() -> stamp(InternalRequest.newBuilder()
        .setAuthUserAdd(r.toBuilder().clearPassword().setHashedPassword(passwords.hash(r.getPassword()))).build(), who), false);
  }

  /** UserChangePassword with the password replaced by its bcrypt hash (computed on a worker thread). */
  public Future<InternalRequest> changePassword(AuthUserChangePasswordRequest r) {
    AuthInfo who = caller();
    if (!r.getHashedPassword().isEmpty()) {
      return Future.succeededFuture(stamp(InternalRequest.newBuilder()
          .setAuthUserChangePassword(r.toBuilder().clearPassword()).build(), who));
    }
    Passwords passwords = holder().passwords;
    return vertx.executeBlocking(() -> stamp(InternalRequest.newBuilder().setAuthUserChangePassword(
        r.toBuilder().clearPassword().setHashedPassword(passwords.hash(r.getPassword()))).build(), who), false);
  }
}
