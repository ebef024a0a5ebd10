package io.vetcd.client;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vetcd.pb.AuthGrpcClient;
import io.vetcd.pb.AuthenticateRequest;
import io.vetcd.pb.AuthenticateResponse;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A Reactor client for etcd v3 and vetcd, on the Vert.x gRPC client.
 *
 * <pre>{@code
 * try (VetcdClient client = VetcdClient.builder().endpoints("http://127.0.0.1:2379").build()) {
 *   client.kv().put("greeting", "hello").block();
 *   String v = client.kv().get("greeting").map(r -> r.getKvs(0).getValue().toStringUtf8()).block();
 * }
 * }</pre>
 *
 * <p>Failover: the client talks to one endpoint at a time and moves to the next one when a call
 * fails because of the endpoint (no connection, connection lost, deadline, {@code UNAVAILABLE}).
 * Every request carries {@code hasleader=true}, so a member cut off from its leader refuses it
 * instead of serving it. Only requests that are safe to repeat are retried automatically: reads,
 * read-only txns, status and member list, watch resume and lease keep-alive. A write (put, delete,
 * txn with writes, compact, lease grant/revoke, cluster and auth changes) is retried only when it
 * provably was not applied (the connection could not be opened, or the member refused it with
 * {@code etcdserver: no leader} before proposing it); otherwise its failure is
 * reported with {@link VetcdException#mayHaveBeenApplied()} set.
 *
 * <p>Results are delivered on the {@link Builder#callbackScheduler callback scheduler} (Reactor's
 * bounded elastic scheduler by default), never on a Vert.x event loop, so a subscriber may block.
 */
public final class VetcdClient implements AutoCloseable {
  static final String HAS_LEADER = "hasleader";
  static final String TOKEN = "token";

  final Vertx vertx;
  private final boolean ownsVertx;
  final GrpcClient grpc;
  final List<SocketAddress> addresses;
  final List<String> endpoints;
  private final AtomicInteger current = new AtomicInteger();
  final Duration requestTimeout;
  private final long connectTimeoutMillis;
  final int maxRetries;
  final Scheduler scheduler;
  private final String user;
  private final String password;
  private final AtomicReference<Future<String>> token = new AtomicReference<>();
  private volatile boolean closed;

  private final Kv kv;
  private final Leases leases;
  private final Watches watches;
  private final ClusterApi cluster;
  private final MaintenanceApi maintenance;
  private final AuthApi auth;

  private VetcdClient(Builder b) {
    if (b.endpoints.isEmpty()) throw new IllegalArgumentException("no endpoints");
    this.ownsVertx = b.vertx == null;
    this.vertx = b.vertx != null ? b.vertx : Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    boolean tls = false;
    List<SocketAddress> addrs = new ArrayList<>();
    for (String e : b.endpoints) {
      String s = e.contains("://") ? e : "http://" + e;
      URI uri = URI.create(s);
      if ("https".equals(uri.getScheme())) tls = true;
      int port = uri.getPort() > 0 ? uri.getPort() : 2379;
      addrs.add(SocketAddress.inetSocketAddress(port, uri.getHost()));
    }
    this.addresses = List.copyOf(addrs);
    this.endpoints = List.copyOf(b.endpoints);
    HttpClientOptions http = new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false)
        .setConnectTimeout((int) b.connectTimeout.toMillis());
    if (tls || b.caPem != null) {
      http.setSsl(true).setUseAlpn(true);
      if (b.caPem != null) http.setTrustOptions(new PemTrustOptions().addCertPath(b.caPem));
      else if (b.trustAll) http.setTrustAll(true).setVerifyHost(false);
      if (b.certPem != null) http.setKeyCertOptions(new PemKeyCertOptions().setCertPath(b.certPem).setKeyPath(b.keyPem));
    }
    GrpcClientOptions grpcOptions = new GrpcClientOptions()
        .setMaxMessageSize(b.maxMessageSize)
        .setScheduleDeadlineAutomatically(true);
    // What GrpcClient.client(vertx, grpcOptions, http) builds, plus a hook on each new connection:
    // its flushes are batched (two per call otherwise, one system call each).
    io.vertx.core.http.HttpClient httpClient = vertx.httpClientBuilder().with(http)
        .withConnectHandler(io.vetcd.http2.FlushBatching::install).build();
    this.grpc = new io.vertx.grpc.client.impl.GrpcClientImpl(vertx, grpcOptions, httpClient, true) { };
    this.requestTimeout = b.requestTimeout;
    this.connectTimeoutMillis = b.connectTimeout.toMillis();
    this.maxRetries = b.maxRetries;
    this.scheduler = b.scheduler;
    this.user = b.user;
    this.password = b.password;
    this.kv = new Kv(this);
    this.leases = new Leases(this);
    this.watches = new Watches(this);
    this.cluster = new ClusterApi(this);
    this.maintenance = new MaintenanceApi(this);
    this.auth = new AuthApi(this);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Keys, values, txns and compaction. */
  public Kv kv() {
    return kv;
  }

  /** Leases: grant, revoke, time-to-live, keep-alive. */
  public Leases lease() {
    return leases;
  }

  /** Watches that resume after failures. */
  public Watches watch() {
    return watches;
  }

  public ClusterApi cluster() {
    return cluster;
  }

  public MaintenanceApi maintenance() {
    return maintenance;
  }

  public AuthApi auth() {
    return auth;
  }

  /** The endpoint the client is using now. */
  public String currentEndpoint() {
    return endpoints.get(current.get() % endpoints.size());
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    watches.closeAll();
    leases.closeAll();
    try {
      // closing our own Vert.x closes the gRPC client with it
      (ownsVertx ? vertx.close() : grpc.close()).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // closing anyway
    }
  }

  boolean isClosed() {
    return closed;
  }

  // ---------------------------------------------------------------------------------------------
  // Transport

  int currentIndex() {
    return current.get() % addresses.size();
  }

  /** Moves off {@code failed} (if it is still the current endpoint) to the next one. */
  void rotate(int failed) {
    current.compareAndSet(failed, (failed + 1) % addresses.size());
  }

  long backoffMillis(int attempt) {
    return Math.min(1000, 50L << Math.min(attempt, 5));
  }

  /** A unary call with failover; {@code idempotent} says whether it may be repeated after it was sent. */
  <Req, Resp> Mono<Resp> unary(ServiceMethod<Resp, Req> method, Req request, boolean idempotent) {
    Objects.requireNonNull(request);
    Mono<Resp> call = Mono.create(sink -> attempt(method, request, idempotent, 0, false, sink));
    return scheduler == Schedulers.immediate() ? call : call.publishOn(scheduler);
  }

  private <Req, Resp> void attempt(ServiceMethod<Resp, Req> method, Req request, boolean idempotent, int tries,
      boolean reauthenticated, MonoSink<Resp> sink) {
    if (closed) {
      sink.error(new VetcdException(GrpcStatus.CANCELLED, "client is closed"));
      return;
    }
    int ep = currentIndex();
    boolean[] sent = {false};
    Future<String> tok = method == AuthGrpcClient.Authenticate ? Future.succeededFuture(null) : token(ep);
    tok.compose(t -> send(ep, method, request, t, sent)).onComplete(ar -> {
      if (ar.succeeded()) {
        sink.success(ar.result());
        return;
      }
      VetcdException ex = toVetcd(ar.cause());
      if (user != null && !reauthenticated && ex.status() == GrpcStatus.UNAUTHENTICATED
          && ex.etcdMessage().contains("invalid auth token")) {
        token.set(null); // rejected before it was processed: safe to repeat with a new token
        attempt(method, request, idempotent, tries, true, sink);
        return;
      }
      // "no leader" is how a member refuses a request before proposing it (the hasleader check):
      // nothing was applied, so even a write may go to another member
      boolean notSent = !sent[0] || (ex.status() == GrpcStatus.UNAVAILABLE
          && !(ex instanceof TransportException) && "etcdserver: no leader".equals(ex.etcdMessage()));
      boolean endpointProblem = notSent || isEndpointProblem(ex);
      if (endpointProblem) rotate(ep);
      if (endpointProblem && (notSent || idempotent) && tries < maxRetries && !closed) {
        vertx.setTimer(backoffMillis(tries), id -> attempt(method, request, idempotent, tries + 1, false, sink));
      } else {
        sink.error(endpointProblem && !idempotent && !notSent ? ex.withMayHaveBeenApplied() : ex);
      }
    });
  }

  static boolean isEndpointProblem(VetcdException ex) {
    return ex.status() == GrpcStatus.UNAVAILABLE || ex.status() == GrpcStatus.DEADLINE_EXCEEDED
        || ex instanceof TransportException;
  }

  private <Req, Resp> Future<Resp> send(int ep, ServiceMethod<Resp, Req> method, Req request, String tok,
      boolean[] sent) {
    return request(ep, method).compose(req -> {
      sent[0] = true;
      req.headers().set(HAS_LEADER, "true");
      if (tok != null) req.headers().set(TOKEN, tok);
      if (!requestTimeout.isZero()) req.timeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
      return req.send(request).compose(resp -> resp.last().recover(err -> Future.failedFuture(statusOf(resp, err))));
    });
  }

  /** Opens a stream on endpoint {@code ep} with the leader requirement and the auth token set. */
  <Req, Resp> Future<GrpcClientRequest<Req, Resp>> openStream(int ep, ServiceMethod<Resp, Req> method) {
    return token(ep).compose(tok -> request(ep, method).map(req -> {
      req.headers().set(HAS_LEADER, "true");
      if (tok != null) req.headers().set(TOKEN, tok);
      return req;
    }));
  }

  /**
   * A request on endpoint {@code ep}, failing with {@code UNAVAILABLE} if the connection is not ready
   * within the connect timeout. The TCP connect timeout alone does not bound it: a member that is
   * paused (SIGSTOP) or hung still has the kernel accept the connection, and the HTTP/2 handshake then
   * waits for it for ever, before any gRPC deadline is armed; every call to it hung with it. A request
   * that comes too late is canceled before anything is sent, so a write given up here was never sent
   * and may go to another endpoint.
   */
  private <Req, Resp> Future<GrpcClientRequest<Req, Resp>> request(int ep, ServiceMethod<Resp, Req> method) {
    Future<GrpcClientRequest<Req, Resp>> opened = grpc.request(addresses.get(ep), method);
    if (opened.isComplete()) {
      return opened; // a ready connection had room for the stream (the usual case on an event loop): no timer
    }
    Promise<GrpcClientRequest<Req, Resp>> promise = Promise.promise();
    java.util.concurrent.atomic.AtomicBoolean settled = new java.util.concurrent.atomic.AtomicBoolean();
    long timer = vertx.setTimer(Math.max(1, connectTimeoutMillis), id -> {
      if (settled.compareAndSet(false, true)) {
        promise.fail(new TransportException(GrpcStatus.UNAVAILABLE,
            "no connection to " + endpoints.get(ep) + " within " + connectTimeoutMillis + " ms", null));
      }
    });
    opened.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (!settled.compareAndSet(false, true)) {
        if (ar.succeeded()) {
          try {
            ar.result().cancel(); // nothing was written on it
          } catch (RuntimeException ignored) {
            // gone already
          }
        }
        return;
      }
      if (ar.succeeded()) {
        promise.complete(ar.result());
      } else {
        promise.fail(ar.cause());
      }
    });
    return promise.future();
  }

  /** The auth token, fetched once per client (and again after the server rejects it). */
  private Future<String> token(int ep) {
    if (user == null) return Future.succeededFuture(null);
    Future<String> t = token.get();
    if (t != null && !(t.isComplete() && t.failed())) return t;
    Promise<String> p = Promise.promise();
    if (!token.compareAndSet(t, p.future())) return token(ep);
    AuthenticateRequest req = AuthenticateRequest.newBuilder().setName(user).setPassword(password).build();
    send(ep, AuthGrpcClient.Authenticate, req, null, new boolean[1])
        .map(AuthenticateResponse::getToken).onComplete(p);
    return p.future();
  }

  void invalidateToken() {
    token.set(null);
  }

  static Throwable statusOf(GrpcClientResponse<?, ?> resp, Throwable err) {
    GrpcStatus st = resp.status();
    if (st != null && st != GrpcStatus.OK) {
      String msg = resp.statusMessage();
      return new VetcdException(st, msg == null ? "" : msg);
    }
    return err;
  }

  static VetcdException toVetcd(Throwable t) {
    if (t instanceof VetcdException v) return v;
    if (t instanceof io.vertx.grpc.common.GrpcErrorException g) {
      return new TransportException(g.status() != null ? g.status() : GrpcStatus.UNAVAILABLE, String.valueOf(t), t);
    }
    return new TransportException(GrpcStatus.UNAVAILABLE, String.valueOf(t), t);
  }

  /** The connection failed or broke: no status came from the server. */
  static final class TransportException extends VetcdException {
    TransportException(GrpcStatus status, String message, Throwable cause) {
      super(status, message, false, 0, cause);
    }
  }

  /** Builds a {@link VetcdClient}. */
  public static final class Builder {
    private final List<String> endpoints = new ArrayList<>();
    private Vertx vertx;
    private Duration requestTimeout = Duration.ofSeconds(10);
    private Duration connectTimeout = Duration.ofSeconds(3);
    private int maxRetries = 12;
    private long maxMessageSize = 256L * 1024 * 1024;
    private Scheduler scheduler = Schedulers.boundedElastic();
    private String user;
    private String password;
    private String caPem;
    private String certPem;
    private String keyPem;
    private boolean trustAll;

    /** Endpoints like {@code http://127.0.0.1:2379}, {@code https://host:2379} or {@code host:2379}. */
    public Builder endpoints(String... endpoints) {
      for (String e : endpoints) {
        for (String part : e.split(",")) if (!part.isBlank()) this.endpoints.add(part.trim());
      }
      return this;
    }

    public Builder endpoints(List<String> endpoints) {
      return endpoints(endpoints.toArray(String[]::new));
    }

    /** Use this Vert.x instance instead of creating one (the client then does not close it). */
    public Builder vertx(Vertx vertx) {
      this.vertx = vertx;
      return this;
    }

    /** Deadline of each unary call (sent as grpc-timeout); zero for none. Default 10 s. */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = timeout;
      return this;
    }

    /**
     * How long a connection may take to be ready (TCP connect and HTTP/2 handshake) before the call
     * gives up on the endpoint and moves to the next one. Default 3 s.
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = timeout;
      return this;
    }

    /** How many times a repeatable call is retried on another endpoint. Default 12. */
    public Builder maxRetries(int n) {
      this.maxRetries = n;
      return this;
    }

    public Builder maxMessageSize(long bytes) {
      this.maxMessageSize = bytes;
      return this;
    }

    /** Where results are delivered; default {@link Schedulers#boundedElastic()}. */
    public Builder callbackScheduler(Scheduler scheduler) {
      this.scheduler = scheduler;
      return this;
    }

    /** Authenticate as this user; the token is sent with every request and renewed when rejected. */
    public Builder user(String user, String password) {
      this.user = user;
      this.password = password;
      return this;
    }

    /** TLS: trust the CA in this PEM file (implies TLS even for http:// endpoints). */
    public Builder caCert(String pemPath) {
      this.caPem = pemPath;
      return this;
    }

    /** TLS client certificate and key (PEM), for members started with --client-cert-auth. */
    public Builder clientCert(String certPemPath, String keyPemPath) {
      this.certPem = certPemPath;
      this.keyPem = keyPemPath;
      return this;
    }

    /** TLS without verifying the server (tests only). */
    public Builder insecureTrustAll() {
      this.trustAll = true;
      return this;
    }

    public VetcdClient build() {
      return new VetcdClient(this);
    }
  }
}
