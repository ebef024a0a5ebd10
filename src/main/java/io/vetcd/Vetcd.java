package io.vetcd;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vetcd.api.grpc.GrpcFrontend;
import io.vetcd.api.http.HttpFrontend;
import io.vetcd.bus.Commands;
import io.vetcd.bus.LocalCodec;
import io.vetcd.bus.Raft;
import io.vetcd.bus.Watches;
import io.vetcd.lease.Lessor;
import io.vetcd.mvcc.MvccStore;
import io.vetcd.pb.WatchResponse;
import io.vetcd.raft.Entry;
import io.vetcd.raft.EntryType;
import io.vetcd.raft.HardState;
import io.vetcd.raft.RaftConfig;
import io.vetcd.raft.RaftNode;
import io.vetcd.server.ApplyVerticle;
import io.vetcd.server.LeaseVerticle;
import io.vetcd.server.Bootstrap;
import io.vetcd.server.MemberTable;
import io.vetcd.server.Membership;
import io.vetcd.server.RaftVerticle;
import io.vetcd.server.ServerConfig;
import io.vetcd.server.WatchVerticle;
import io.vetcd.wal.Wal;
import io.vetcd.wal.WalEntry;
import io.vetcd.wal.WalRecovered;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The composition root: reads the flags, opens the stores, deploys the verticles and frontends. */
public final class Vetcd implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Vetcd.class);
  /** etcd's default request timeout (5 s) plus twice the election timeout's slack. */
  private static final long REQUEST_TIMEOUT_MILLIS = 7_000;

  private final Vertx vertx;
  private final MvccStore store;
  private final Wal wal;
  /** The client listeners, closed first when the member stops (they belong to the apply verticle's deployment). */
  private final List<HttpServer> clientServers = new java.util.concurrent.CopyOnWriteArrayList<>();

  private Vetcd(Vertx vertx, MvccStore store, Wal wal) {
    this.vertx = vertx;
    this.store = store;
    this.wal = wal;
  }

  public static void main(String[] args) {
    if (args.length >= 2 && args[0].equals("snapshot") && args[1].equals("restore")) {
      System.exit(io.vetcd.server.RestoreCommand.run(java.util.Arrays.copyOfRange(args, 2, args.length), System.getenv(),
          System.out, System.err));
    }
    ServerConfig config;
    try {
      config = ServerConfig.parse(args, System.getenv());
    } catch (ServerConfig.UsageException e) {
      if (!e.getMessage().isEmpty()) {
        System.err.println(e.getMessage());
      }
      ServerConfig.printUsage(System.err);
      System.exit(2);
      return;
    }
    if (config.printVersionOnly()) {
      System.out.println("vetcd Version: 0.1.0\netcd API Version: 3.4");
      return;
    }
    exitOnRemoval = true;
    Logging.configure(config.logLevel(), List.of(config.get("log-outputs").split(",")), config.get("log-format"));
    Vetcd vetcd;
    try {
      vetcd = start(config);
    } catch (Exception e) {
      log.error("failed to start: {}", e.getMessage(), e);
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("received a shutdown signal; stopping {}", config.name());
      vetcd.close();
    }, "vetcd-shutdown"));
  }

  /** Set by {@link #main}: a member removed from the cluster exits the process (as etcd does). */
  private static volatile boolean exitOnRemoval;

  public static Vetcd start(ServerConfig config) throws Exception {
    io.vetcd.server.EtcdDataDir.importIfEtcds(config);
    Files.createDirectories(config.dataDir().resolve("member").resolve("snap"));
    // Built before anything is opened: an https URL without a certificate fails fast (etcd's message),
    // and --auto-tls makes its certificate here.
    io.vetcd.server.Tls clientTls = io.vetcd.server.Tls.client(config);
    io.vetcd.auth.TokenProvider tokens = tokens(config); // a bad --auth-token fails before anything opens
    io.vetcd.server.Tls peerTls = io.vetcd.server.Tls.peer(config);
    for (URI url : config.peerUrls()) {
      peerTls.apply(new io.vertx.core.net.NetServerOptions(), url); // an https URL without a certificate fails here
    }
    List<HttpServerOptions> clientListeners = new ArrayList<>();
    for (URI url : config.clientUrls()) {
      // etcd (Go gRPC) lets a client open any number of streams on one connection (many watches and
      // keep-alives share a connection); Vert.x's default of 100 would leave the rest waiting.
      clientListeners.add(clientTls.apply(new HttpServerOptions().setHttp2ClearTextEnabled(true)
          .setInitialSettings(new io.vertx.core.http.Http2Settings().setMaxConcurrentStreams(0xFFFFFFFFL))
          // gRPC clients cancel streams as a matter of course (a keep-alive or watch they are done
          // with): Netty's rapid-reset guard (200 resets in 30 s) would close their connection.
          .setHttp2RstFloodMaxRstFramePerWindow(100_000).setHttp2RstFloodWindowDuration(30)
          // curl asks 'Expect: 100-continue' before a body over 1 MB and waits a second for the answer
          .setHandle100ContinueAutomatically(true)
          .setHost(url.getHost()).setPort(url.getPort()), url));
    }
    List<HttpServerOptions> metricsListeners = new ArrayList<>();
    for (URI url : config.metricsUrls()) {
      metricsListeners.add(clientTls.apply(new HttpServerOptions().setHandle100ContinueAutomatically(true)
          .setHost(url.getHost()).setPort(url.getPort()), url));
    }
    if (!config.flagsWithoutEffect().isEmpty()) {
      log.info("taking etcd's flags {} for compatibility: they have no effect in vetcd", config.flagsWithoutEffect());
    }
    io.vetcd.server.Snapshots snapshots = new io.vetcd.server.Snapshots(config.dataDir().resolve("member").resolve("snap"));
    MvccStore store = openStore(config.dataDir().resolve("member").resolve("snap").resolve("db"), config.walDir(),
        snapshots);
    MemberTable members = new MemberTable(store.clusterTable());
    Membership membership = Bootstrap.membership(config, store, members);
    // The segment size is etcd's fixed 64 MiB; tests lower it (-Dvetcd.wal.segmentBytes) to see segments go.
    Wal wal = Wal.open(config.walDir(), Long.getLong("vetcd.wal.segmentBytes", Wal.DEFAULT_SEGMENT_SIZE_BYTES));
    WalRecovered recovered = Bootstrap.storeAheadOfWal(wal, store, members);
    if (config.initialClusterStateNew() && store.consistentIndex() == 0 && recovered.hardState() == null
        && recovered.snapshot() == null && recovered.entries().isEmpty()) {
      recovered = Bootstrap.bootstrapLog(wal, members.voters().size(), recovered);
    }
    if (recovered.tailRepaired()) {
      log.warn("repaired the WAL's torn tail: truncated {} bytes", recovered.bytesTruncated());
    }
    long electionTicks = Math.max(2, config.electionTimeoutMillis() / config.heartbeatIntervalMillis());
    Lessor lessor = new Lessor((long) Math.ceil(1.5 * config.electionTimeoutMillis() / 1000.0));
    long now = System.nanoTime() / 1_000_000;
    for (Map.Entry<Long, Long> lease : store.leaseTable().entrySet()) {
      lessor.grant(lease.getKey(), lease.getValue(), now);
    }
    store.setLeaseChecker(lessor::exists);
    store.forEachLeasedKey((key, leaseId) -> {
      if (lessor.exists(leaseId)) {
        lessor.attach(key, leaseId);
      }
    });

    RaftConfig raftConfig = new RaftConfig();
    raftConfig.id = membership.localMemberId();
    raftConfig.voters = members.voters();
    raftConfig.learners = members.learners();
    raftConfig.electionTimeoutTicks = (int) electionTicks;
    raftConfig.heartbeatTicks = 1;
    raftConfig.randomSeed = System.nanoTime();
    raftConfig.appliedIndex = store.consistentIndex();
    List<Entry> entries = new ArrayList<>(recovered.entries().size());
    for (WalEntry e : recovered.entries()) {
      entries.add(new Entry(e.term(), e.index(), EntryType.values()[e.type()], e.data()));
    }
    HardState hardState = reconcile(recovered, store.consistentIndex(), entries);
    io.vetcd.raft.Snapshot snapshot = recovered.snapshot() == null ? null
        : new io.vetcd.raft.Snapshot(recovered.snapshot().index(), recovered.snapshot().term(),
            new io.vetcd.raft.ConfState(members.voters(), members.learners()), new byte[0]);
    RaftNode node = RaftNode.start(raftConfig, hardState, snapshot, entries);
    wal.forgetRecoveredEntries();
    log.info("starting member {} ({}) in cluster {}: applied index {}, {} WAL entries, revision {}",
        Long.toHexString(membership.localMemberId()), config.name(), Long.toHexString(membership.clusterId()),
        store.consistentIndex(), entries.size(), store.currentRevision());

    // One event loop per core (Vert.x defaults to two): a request crosses several verticles, and every
    // crossing to a parked loop is a wake-up system call; fewer loops are parked less often (put-100:
    // a third fewer write calls and less CPU per request on two cores).
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(Math.max(1, Runtime.getRuntime().availableProcessors())));
    for (Class<?> type : List.of(Commands.Write.class, Commands.Read.class, Commands.KeepAlive.class,
        Commands.ExpiredLeases.class, Commands.ExpiredLeasesResult.class, Commands.History.class,
        Commands.HistoryResult.class, Commands.Backup.class, Commands.Defragment.class, Commands.BackupWritten.class, Raft.Propose.class, Raft.ProposeFailed.class, Raft.ReadIndex.class,
        Raft.ReadIndexDone.class, Raft.ReadIndexFailed.class, Raft.Committed.class, Raft.State.class, Raft.ForwardToLeader.class, Raft.TransferLeader.class,
        Raft.Compact.class, Raft.PrepareSnapshot.class, Raft.SnapshotReady.class, Raft.InstallSnapshot.class,
        Raft.Installed.class, Raft.ProposeConfChange.class, Raft.LearnerProgress.class, Raft.ActivePeers.class, long[].class,
        Watches.Revision.class, Watches.Revisions.class, Watches.Compacted.class, Watches.Frame.class, Watches.Refused.class, Watches.StreamClosed.class,
        Watches.StreamBlocked.class, Watches.StreamDrained.class, WatchResponse.class)) {
      registerCodec(vertx, type);
    }
    registerProtoCodecs(vertx);

    RaftVerticle.Peers peers = peers(config, membership, members);
    Vetcd vetcd = new Vetcd(vertx, store, wal);
    Runnable onRemoved = () -> new Thread(() -> {
      if (exitOnRemoval) {
        System.exit(0);
      } else {
        vetcd.close();
      }
    }, "vetcd-removed").start();
    boolean singleVoter = members.voters().size() == 1 && members.voters().contains(membership.localMemberId());
    io.vetcd.auth.AuthStore auth = authStore(vertx, config, store, tokens);
    ApplyVerticle apply = new ApplyVerticle(store, lessor, membership, REQUEST_TIMEOUT_MILLIS,
            config.electionTimeoutMillis(), config.quotaBackendBytes(), null, auth)
            .snapshots(snapshots, config.snapshotCount())
            .strictReconfigCheck(config.isEnabled("strict-reconfig-check"));
    Future<?> deployed = vertx.deployVerticle(apply)
        .compose(id -> vertx.deployVerticle(new WatchVerticle(store.currentRevision(), store.compactRevision(), membership,
            config.maxRequestBytes() + io.vetcd.api.grpc.GrpcFrontend.GRPC_OVERHEAD_BYTES,
            config.watchProgressNotifyIntervalMillis())))
        .compose(id -> vertx.deployVerticle(new RaftVerticle(node, wal, config.heartbeatIntervalMillis(),
            config.electionTimeoutMillis(), singleVoter, peers).snapshots(snapshots)
            .holdWithoutLeader(REQUEST_TIMEOUT_MILLIS)
            .removed(members.removed(), onRemoved)))
        .compose(id -> vertx.deployVerticle(new LeaseVerticle()))
        .compose(id -> onContext(apply.context(),
            () -> listenClients(vertx, config, membership.localMemberId(), clientListeners, metricsListeners,
                vetcd.clientServers)));
    deployed.await(30, TimeUnit.SECONDS);
    if (singleVoter) {
      // A cluster of one elects itself at once: report ready only then, so the first request finds a leader.
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5 * config.electionTimeoutMillis());
      while (io.vetcd.bus.RaftStatus.leader(vertx) == 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
    }
    log.info("ready to serve client requests on {}", config.get("listen-client-urls"));
    return vetcd;
  }

  /**
   * Runs {@code start} on {@code context}. The client listeners start on the apply verticle's event
   * loop so that their connections are served there: a request then reaches the store and raft
   * without waking the other loop and back (less CPU per request, lower latency on a small machine).
   */
  private static Future<?> onContext(io.vertx.core.Context context, java.util.function.Supplier<Future<?>> start) {
    io.vertx.core.Promise<Object> started = io.vertx.core.Promise.promise();
    context.runOnContext(v -> {
      try {
        start.get().onComplete(started);
      } catch (RuntimeException e) {
        started.fail(e); // fail the start at once, as a failed listen does, rather than time out
      }
    });
    return started.future();
  }

  /** etcd's --auth-token: {@code simple} (with --auth-token-ttl) or {@code jwt,pub-key=...,priv-key=...,sign-method=...}. */
  static io.vetcd.auth.TokenProvider tokens(ServerConfig config) {
    String tokenKind = config.get("auth-token");
    if (tokenKind.equals("jwt") || tokenKind.startsWith("jwt,")) {
      return io.vetcd.auth.JwtTokens.fromFlag(tokenKind, System::currentTimeMillis);
    }
    if (!tokenKind.equals("simple")) {
      throw new IllegalArgumentException("unknown token type: " + tokenKind.split(",")[0]);
    }
    long ttlMillis = Long.parseLong(config.get("auth-token-ttl")) * 1000;
    return new io.vetcd.auth.SimpleTokens(() -> System.nanoTime() / 1_000_000, ttlMillis);
  }

  /** The auth store over the MVCC store's auth table, shared with the frontends. */
  private static io.vetcd.auth.AuthStore authStore(Vertx vertx, ServerConfig config, MvccStore store,
      io.vetcd.auth.TokenProvider tokens) {
    io.vetcd.auth.AuthStore auth = new io.vetcd.auth.AuthStore(store.authTable(), tokens);
    io.vetcd.api.AuthGate.install(vertx, auth, new io.vetcd.auth.Passwords(Integer.parseInt(config.get("bcrypt-cost"))));
    for (Class<?> type : List.<Class<?>>of(io.vetcd.pb.AuthEnableResponse.class, io.vetcd.pb.AuthDisableResponse.class,
            io.vetcd.pb.AuthenticateResponse.class, io.vetcd.pb.AuthUserAddResponse.class,
            io.vetcd.pb.AuthUserGetResponse.class, io.vetcd.pb.AuthUserListResponse.class,
            io.vetcd.pb.AuthUserDeleteResponse.class, io.vetcd.pb.AuthUserChangePasswordResponse.class,
            io.vetcd.pb.AuthUserGrantRoleResponse.class, io.vetcd.pb.AuthUserRevokeRoleResponse.class,
            io.vetcd.pb.AuthRoleAddResponse.class, io.vetcd.pb.AuthRoleGetResponse.class,
            io.vetcd.pb.AuthRoleListResponse.class, io.vetcd.pb.AuthRoleDeleteResponse.class,
            io.vetcd.pb.AuthRoleGrantPermissionResponse.class, io.vetcd.pb.AuthRoleRevokePermissionResponse.class)) {
      registerCodec(vertx, type);
    }
    return auth;
  }

  /** The peer URLs to listen on and, for every other member, where to reach it. */
  private static RaftVerticle.Peers peers(ServerConfig config, Membership membership, MemberTable members)
      throws Exception {
    Map<Long, List<String>> peerUrls = new java.util.LinkedHashMap<>();
    for (io.vetcd.pb.Member member : members.members()) {
      if (member.getID() != membership.localMemberId()) {
        peerUrls.put(member.getID(), member.getPeerURLsList());
      }
    }
    return new RaftVerticle.Peers(membership.clusterId(), config.peerUrls(), peerUrls, io.vetcd.server.Tls.peer(config));
  }

  /**
   * Opens the MVCC store. Its file is a cache of the applied state, trusted only after a clean
   * close; otherwise (the process died, or the file is unreadable) the store is rebuilt from the
   * newest snapshot file the WAL can continue from, and raft then replays the WAL's committed
   * entries after it. Every applied entry is in the WAL or in that snapshot, so nothing is lost;
   * when neither can rebuild the store, the member stops loudly.
   */
  static MvccStore openStore(Path dbFile, Path walDir, io.vetcd.server.Snapshots snapshots) throws java.io.IOException {
    String why;
    try {
      return MvccStore.open(dbFile);
    } catch (MvccStore.NotCleanlyClosedException unclean) {
      why = "the member did not stop cleanly";
    } catch (MvccStore.OlderFormatException older) {
      why = older.getMessage();
    } catch (RuntimeException damaged) {
      why = "the store is unreadable (" + damaged + ")";
    }
    long firstNeededIndex; // the WAL continues from a snapshot at this index or later
    try (Wal wal = Wal.open(walDir)) {
      WalRecovered r = wal.recovered();
      firstNeededIndex = r.snapshot() != null ? r.snapshot().index()
          : r.entries().isEmpty() ? 0 : r.entries().get(0).index() - 1;
    }
    for (Path candidate : snapshots.newestFirst()) {
      long index = io.vetcd.server.Snapshots.indexOf(candidate);
      if (index < firstNeededIndex) {
        break;
      }
      MvccStore store = MvccStore.recreate(dbFile);
      try {
        store.replaceFrom(candidate);
        log.warn("{}: rebuilt the store from the snapshot at index {}; the WAL's entries after it are replayed",
            why, index);
        return store;
      } catch (java.io.IOException | RuntimeException e) {
        log.error("the snapshot {} is damaged ({}); trying an older one", candidate, e.toString());
        store.abandon();
      }
    }
    if (firstNeededIndex > 0) {
      throw new IllegalStateException(why + ", and no snapshot file at or after raft index " + firstNeededIndex
          + " (where the WAL starts) can rebuild the store " + dbFile
          + "; restore this member from a snapshot or remove and re-add it");
    }
    if (Files.exists(dbFile)) {
      log.warn("{}: rebuilding the store by replaying the whole WAL", why);
    }
    return MvccStore.recreate(dbFile);
  }

  /**
   * The WAL's hard state, made consistent with the store. An entry is applied only after it is
   * fsynced, so the WAL holds every applied entry; but the hard state record written with it may be
   * the torn tail that recovery cut off, leaving a commit index below the applied index. Applied
   * entries are committed, so the commit index is raised to the applied index. A WAL that ends
   * before the applied index lost acknowledged entries: the member stops rather than reuse indexes.
   */
  static HardState reconcile(WalRecovered recovered, long appliedIndex, List<Entry> entries) {
    long lastIndex = entries.isEmpty()
        ? (recovered.snapshot() == null ? 0 : recovered.snapshot().index())
        : entries.get(entries.size() - 1).index();
    if (appliedIndex > lastIndex) {
      throw new IllegalStateException("the store has applied raft index " + appliedIndex
          + " but the WAL ends at index " + lastIndex + ": the WAL lost entries it had acknowledged");
    }
    long lastEntryTerm = !entries.isEmpty() ? entries.get(entries.size() - 1).term()
        : recovered.snapshot() == null ? 0 : recovered.snapshot().term();
    if (recovered.hardState() == null) {
      return appliedIndex == 0 ? null : new HardState(lastEntryTerm, 0, appliedIndex);
    }
    long commit = Math.max(recovered.hardState().commit(), appliedIndex);
    if (commit != recovered.hardState().commit()) {
      log.warn("the WAL's commit index {} is behind the applied index {} (torn hard state): raised",
          recovered.hardState().commit(), appliedIndex);
    }
    long lastTerm = lastEntryTerm;
    if (lastTerm > recovered.hardState().term()) {
      // The hard state of that term was torn before its fsync finished, so no vote of it was sent.
      return new HardState(lastTerm, 0, commit);
    }
    return new HardState(recovered.hardState().term(), recovered.hardState().votedFor(), commit);
  }

  private static Future<?> listenClients(Vertx vertx, ServerConfig config, long localMemberId,
      List<HttpServerOptions> listeners, List<HttpServerOptions> metricsListeners, List<HttpServer> listening) {
    GrpcFrontend grpc = new GrpcFrontend(vertx, localMemberId, config.maxRequestBytes(), config.maxTxnOps(),
        REQUEST_TIMEOUT_MILLIS);
    HttpFrontend http = new HttpFrontend(vertx, ApplyVerticle.VERSION, localMemberId, config.maxRequestBytes(),
        config.maxTxnOps(), config.quotaBackendBytes(), REQUEST_TIMEOUT_MILLIS);
    List<Future<HttpServer>> servers = new ArrayList<>();
    for (HttpServerOptions options : listeners) {
      HttpServer server = vertx.createHttpServer(options);
      server.connectionHandler(connection -> {
        io.vetcd.api.grpc.LenientAuthority.install(connection);
        io.vetcd.http2.FlushBatching.install(connection);
      });
      server.requestHandler(request -> {
        String contentType = request.getHeader("content-type");
        // gRPC is HTTP/2 only: over HTTP/1.x etcd's listener hands even a gRPC content type to the gateway
        if (contentType != null && contentType.startsWith("application/grpc")
            && request.version() == io.vertx.core.http.HttpVersion.HTTP_2) {
          grpc.server().handle(request);
        } else {
          http.handle(request);
        }
      });
      servers.add(server.listen().onSuccess(listening::add));
    }
    for (HttpServerOptions options : metricsListeners) {
      HttpServer server = vertx.createHttpServer(options);
      server.requestHandler(http::handleMetricsListener);
      servers.add(server.listen().onSuccess(listening::add));
    }
    return Future.all(servers);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void registerCodec(Vertx vertx, Class<?> type) {
    LocalCodec.register(vertx.eventBus(), (Class) type);
  }

  /** Every response proto crosses the bus as is (they are immutable). */
  private static void registerProtoCodecs(Vertx vertx) {
    for (Class<?> type : List.of(io.vetcd.pb.RangeResponse.class, io.vetcd.pb.PutResponse.class,
        io.vetcd.pb.DeleteRangeResponse.class, io.vetcd.pb.TxnResponse.class, io.vetcd.pb.CompactionResponse.class,
        io.vetcd.pb.LeaseGrantResponse.class, io.vetcd.pb.LeaseRevokeResponse.class,
        io.vetcd.pb.LeaseKeepAliveResponse.class, io.vetcd.pb.LeaseTimeToLiveResponse.class,
        io.vetcd.pb.LeaseLeasesResponse.class, io.vetcd.pb.MemberListResponse.class, io.vetcd.pb.StatusResponse.class,
        io.vetcd.pb.HashResponse.class, io.vetcd.pb.HashKVResponse.class, io.vetcd.pb.AlarmResponse.class,
        io.vetcd.pb.MemberAddRequest.class, io.vetcd.pb.MemberRemoveRequest.class, io.vetcd.pb.MemberUpdateRequest.class,
        io.vetcd.pb.MemberPromoteRequest.class, io.vetcd.pb.MemberAddResponse.class,
        io.vetcd.pb.MemberRemoveResponse.class, io.vetcd.pb.MemberUpdateResponse.class,
        io.vetcd.pb.MemberPromoteResponse.class,
        io.vetcd.pb.DefragmentResponse.class)) {
      registerCodec(vertx, type);
    }
  }

  @Override
  public void close() {
    // Stop taking client requests first: the listeners would otherwise close only with the apply
    // verticle, after the raft and watch verticles had gone (requests would wait out their timeout).
    CountDownLatch listenersClosed = new CountDownLatch(1);
    Future.all(clientServers.stream().map(HttpServer::close).toList()).onComplete(ar -> listenersClosed.countDown());
    try {
      listenersClosed.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    CountDownLatch closed = new CountDownLatch(1);
    vertx.close().onComplete(ar -> closed.countDown());
    try {
      closed.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      // The verticles have stopped and finished their in-flight commit and fsync: close in order.
      store.close();
      wal.sync();
      wal.close();
    } catch (Exception e) {
      log.warn("closing the stores: {}", e.toString());
    }
    log.info("stopped");
  }
}
