package io.vetcd.peer;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vetcd.raft.Message;
import io.vetcd.raft.MessageCodec;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries raft messages (and small request/response calls, e.g. lease keep-alives forwarded to the
 * leader) between members over framed TCP on the peer URLs.
 *
 * <p>Every member dials every other member once; a connection carries traffic one way (raft
 * messages and requests from the dialer, responses back). The dialer opens with a HELLO naming the
 * cluster and both members; the acceptor refuses a different cluster id or a wrong receiver id.
 * Lost connections are redialed with exponential backoff (capped at {@value #BACKOFF_MAX_MILLIS} ms).
 * Each peer has a bounded outbound queue: when it is full, raft messages are dropped (raft
 * retransmits). Everything runs on the context that created the transport; inbound messages are
 * delivered there.
 */
public final class PeerTransport {
  private static final Logger log = LoggerFactory.getLogger(PeerTransport.class);
  public static final int FRAME_BYTES_MAX = 64 << 20;
  public static final int QUEUE_FRAMES_MAX = 4096;
  public static final long QUEUE_BYTES_MAX = 16L << 20;
  /** Frames queued for one socket are written together up to this size: one write call for many small frames. */
  static final int WRITE_BATCH_BYTES_MAX = 256 << 10;
  static final long BACKOFF_MIN_MILLIS = 50;
  static final long BACKOFF_MAX_MILLIS = 1000;
  private static final long HELLO_TIMEOUT_MILLIS = 5000;

  private final Vertx vertx;
  private final Context context;
  private final long clusterId;
  private final long localId;
  private final Map<Long, Peer> peers = new HashMap<>();
  private final List<NetServer> servers = new ArrayList<>();
  private final NetClient client;
  /** Test-only fault switch: traffic to and from these members is dropped. */
  private final Set<Long> cut = ConcurrentHashMap.newKeySet();
  static final long CUT_FILE_POLL_MILLIS = 100;
  private long cutFileTimer;
  private Handler<Message> messageHandler = m -> { };
  private java.util.function.LongPredicate refused = id -> false;
  private Runnable onRefusedSelf = () -> { };
  private java.util.function.Supplier<Future<Buffer>> clusterInfo = () -> Future.failedFuture("no cluster info");
  /** Accepted connections by the member that dialed them. */
  private final Map<Long, List<NetSocket>> inbound = new HashMap<>();
  private Function<Buffer, Future<Buffer>> requestHandler =
      b -> Future.failedFuture(new PeerRequestException(12, "no request handler"));
  private long nextRequestId = 1;
  private java.util.function.BiFunction<NetServerOptions, URI, NetServerOptions> serverTls = (options, url) -> options;
  private io.vertx.core.net.ClientSSLOptions clientSsl = new io.vertx.core.net.ClientSSLOptions();
  private boolean closed;
  /**
   * Bytes of frames written to and read from each member, for etcd's peer byte counters. A
   * connection looks its member's counter up once, not per frame.
   */
  private final Map<Long, java.util.concurrent.atomic.LongAdder> sentBytes = new ConcurrentHashMap<>();
  private final Map<Long, java.util.concurrent.atomic.LongAdder> receivedBytes = new ConcurrentHashMap<>();

  /** Bytes sent to each member so far, by hex id; safe to read from any thread. */
  public Map<String, Long> sentBytesByMember() {
    return sums(sentBytes);
  }

  /** Bytes received from each member so far, by hex id; safe to read from any thread. */
  public Map<String, Long> receivedBytesByMember() {
    return sums(receivedBytes);
  }

  private static Map<String, Long> sums(Map<Long, java.util.concurrent.atomic.LongAdder> counts) {
    Map<String, Long> copy = new java.util.TreeMap<>();
    counts.forEach((id, n) -> {
      long bytes = n.sum();
      if (bytes > 0) { // a member listed only once bytes went to or came from it
        copy.put(Long.toHexString(id), bytes);
      }
    });
    return copy;
  }

  private static java.util.concurrent.atomic.LongAdder counter(Map<Long, java.util.concurrent.atomic.LongAdder> counts,
      long memberId) {
    return counts.computeIfAbsent(memberId, k -> new java.util.concurrent.atomic.LongAdder());
  }

  /** Must be called on the context (e.g. a verticle's) that will own the transport. */
  public PeerTransport(Vertx vertx, long clusterId, long localId) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.clusterId = clusterId;
    this.localId = localId;
    this.client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(1000).setTcpNoDelay(true)
        .setTcpKeepAlive(true));
  }

  public void messageHandler(Handler<Message> handler) {
    this.messageHandler = handler;
  }

  /** Answers requests from peers; a failed future with a {@link PeerRequestException} carries its code. */
  public void requestHandler(Function<Buffer, Future<Buffer>> handler) {
    this.requestHandler = handler;
  }

  /**
   * Members to refuse (removed from the cluster): their connections are rejected with "member removed";
   * when a peer rejects this member so, {@code onRefusedSelf} runs.
   */
  public void refuse(java.util.function.LongPredicate refused, Runnable onRefusedSelf) {
    this.refused = refused;
    this.onRefusedSelf = onRefusedSelf;
  }

  /** What a joining member asking for the cluster gets (see {@link Discovery}). */
  public void clusterInfo(java.util.function.Supplier<Future<Buffer>> supplier) {
    this.clusterInfo = supplier;
  }

  /** Closes the connections a member dialed to this one (it redials, and may be refused then). */
  public void disconnect(long id) {
    onContext(() -> {
      List<NetSocket> sockets = inbound.remove(id);
      if (sockets != null) {
        sockets.forEach(NetSocket::close);
      }
    });
  }

  /**
   * TLS for https peer URLs (etcd's --peer-* flags): {@code serverTls} configures a listener for its
   * URL, {@code clientSsl} is used to dial members whose URL is https.
   */
  public void tls(java.util.function.BiFunction<NetServerOptions, URI, NetServerOptions> serverTls,
      io.vertx.core.net.ClientSSLOptions clientSsl) {
    this.serverTls = serverTls;
    this.clientSsl = clientSsl;
  }

  /** Listens on the peer URLs (host and port of each). */
  public Future<Void> listen(List<URI> urls) {
    List<Future<NetServer>> listening = new ArrayList<>();
    for (URI url : urls) {
      NetServer server = vertx.createNetServer(serverTls.apply(new NetServerOptions().setHost(url.getHost())
          .setPort(url.getPort()).setTcpNoDelay(true), url));
      server.connectHandler(this::accepted);
      servers.add(server);
      listening.add(server.listen());
    }
    return Future.all(listening).mapEmpty();
  }

  /** Starts (or keeps) dialing a member at the first of its peer URLs. */
  public void addPeer(long id, List<String> peerUrls) {
    onContext(() -> {
      if (id == localId || peerUrls.isEmpty()) {
        return;
      }
      Peer existing = peers.get(id);
      URI url = URI.create(peerUrls.get(0));
      if (existing != null) {
        if (existing.url.equals(url)) {
          return;
        }
        if (existing.accepted) {
          // As etcd's transport: a live connection stays (and keeps counting as active for the strict
          // reconfig check); the new URL is dialed when it next breaks.
          log.info("peer {} now at {}; the connection to {} stays until it breaks",
              Long.toHexString(id), url, existing.url);
          existing.url = url;
          return;
        }
        existing.close();
      }
      Peer peer = new Peer(id, url);
      peers.put(id, peer);
      peer.dial();
    });
  }

  public void removePeer(long id) {
    onContext(() -> {
      Peer peer = peers.remove(id);
      if (peer != null) {
        peer.close();
      }
    });
  }

  /** Sends a raft message to its receiver; dropped if the receiver is unknown or its queue is full. */
  public void send(Message m) {
    onContext(() -> {
      Peer peer = peers.get(m.to());
      if (peer == null || cut.contains(m.to())) {
        return;
      }
      peer.enqueue(Frames.frame(Frames.RAFT, MessageCodec.encode(m)), true);
    });
  }

  /** Sends a request to a member; fails with a {@link PeerRequestException} on an error or timeout. */
  public Future<Buffer> request(long peerId, Buffer payload, long timeoutMillis) {
    Promise<Buffer> promise = Promise.promise();
    onContext(() -> {
      Peer peer = peers.get(peerId);
      if (peer == null || cut.contains(peerId)) {
        promise.fail(new PeerRequestException(PeerRequestException.NO_ANSWER, "unknown or unreachable member"));
        return;
      }
      if (!peer.accepted) {
        // Not connected (down, or redialing): fail now so the caller can retry elsewhere, not after a timeout.
        promise.fail(new PeerRequestException(PeerRequestException.NO_ANSWER, "not connected to the member"));
        return;
      }
      long requestId = nextRequestId++;
      long timer = vertx.setTimer(timeoutMillis, t -> {
        PendingRequest p = peer.pending.remove(requestId);
        if (p != null) {
          p.promise.fail(new PeerRequestException(PeerRequestException.NO_ANSWER, "no answer in time"));
        }
      });
      peer.pending.put(requestId, new PendingRequest(promise, timer));
      Buffer body = Buffer.buffer(8 + payload.length()).appendLong(requestId).appendBuffer(payload);
      if (!peer.enqueue(Frames.frame(Frames.REQUEST, body), false)) {
        vertx.cancelTimer(timer);
        peer.pending.remove(requestId);
        promise.fail(new PeerRequestException(PeerRequestException.NO_ANSWER, "peer queue full"));
      }
    });
    return promise.future();
  }

  /**
   * The members whose connection has been up (HELLO accepted, not cut) for at least {@code forMillis},
   * as etcd's transport reports peers active since a time.
   */
  public long[] activePeers(long forMillis) {
    long now = System.nanoTime();
    return peers.values().stream()
        .filter(p -> p.accepted && !cut.contains(p.id) && now - p.activeSinceNanos >= forMillis * 1_000_000)
        .mapToLong(p -> p.id).toArray();
  }

  /** Whether the connection to a member is up and its HELLO was accepted. */
  public boolean connected(long peerId) {
    Peer peer = peers.get(peerId);
    return peer != null && peer.accepted;
  }

  /** Test-only: drop all traffic to and from the given members (a network partition). */
  public void cut(Set<Long> memberIds) {
    cut.clear();
    cut.addAll(memberIds);
  }

  /**
   * Test-only fault switch for tests that run members as separate processes: when the JVM runs with
   * {@code -Dvetcd.test.peerCutFile=<path>}, that file is read every {@value #CUT_FILE_POLL_MILLIS}
   * ms and its hex member ids (separated by commas or white space) are {@link #cut}; a missing or
   * empty file heals the partition. Without the property (always, outside tests) nothing happens.
   */
  public void watchCutFile(String path) {
    if (path == null || path.isBlank()) {
      return;
    }
    log.warn("test fault switch on: peer traffic is cut to and from the members listed in {}", path);
    cutFileTimer = vertx.setPeriodic(CUT_FILE_POLL_MILLIS, t -> vertx.fileSystem().readFile(path).onComplete(ar -> {
      Set<Long> ids = new java.util.HashSet<>();
      if (ar.succeeded()) {
        for (String id : ar.result().toString(StandardCharsets.UTF_8).trim().split("[,\\s]+")) {
          if (!id.isEmpty()) {
            ids.add(Long.parseUnsignedLong(id, 16));
          }
        }
      }
      if (!ids.equals(cut)) {
        log.warn("test fault switch: cutting peer traffic to and from {}",
            ids.stream().map(Long::toHexString).toList());
        cut(ids);
      }
    }));
  }

  public Future<Void> close() {
    Promise<Void> done = Promise.promise();
    onContext(() -> {
      closed = true;
      if (cutFileTimer != 0) {
        vertx.cancelTimer(cutFileTimer);
      }
      for (Peer peer : peers.values()) {
        peer.close();
      }
      peers.clear();
      List<Future<Void>> closing = new ArrayList<>();
      for (NetServer server : servers) {
        closing.add(server.close());
      }
      closing.add(client.close());
      Future.join(closing).onComplete(ar -> done.complete());
    });
    return done.future();
  }

  private void onContext(Runnable r) {
    if (Vertx.currentContext() == context) {
      r.run();
    } else {
      context.runOnContext(v -> r.run());
    }
  }

  // ---- the acceptor side ----

  private void accepted(NetSocket socket) {
    // Member ids are unsigned 64-bit: any long value is an id, so the state is tracked apart.
    long[] sender = {0};
    AnswerOutbox answers = new AnswerOutbox(socket);
    java.util.concurrent.atomic.LongAdder[] receivedFromSender = {null};
    int[] state = {0}; // 0 awaiting HELLO, 1 accepted, 2 refused
    long helloTimer = vertx.setTimer(HELLO_TIMEOUT_MILLIS, t -> {
      if (state[0] == 0) {
        socket.close();
      }
    });
    socket.handler(Frames.parser(FRAME_BYTES_MAX, frame -> {
      byte kind = frame.getByte(0);
      if (state[0] == 0 && kind == Frames.CLUSTER_INFO) {
        vertx.cancelTimer(helloTimer);
        state[0] = 2;
        clusterInfo.get().onComplete(ar -> {
          if (ar.succeeded()) {
            socket.write(Frames.frame(Frames.CLUSTER_INFO, ar.result())).onComplete(w -> socket.close());
          } else {
            socket.write(Frames.frame(Frames.REJECT, String.valueOf(ar.cause().getMessage()).getBytes(StandardCharsets.UTF_8)))
                .onComplete(w -> socket.close());
          }
        });
        return;
      }
      if (state[0] == 0) {
        vertx.cancelTimer(helloTimer);
        String refusal = checkHello(kind, frame, socket);
        if (refusal != null) {
          socket.write(Frames.frame(Frames.REJECT, refusal.getBytes(StandardCharsets.UTF_8)))
              .onComplete(ar -> socket.close());
          state[0] = 2;
          return;
        }
        state[0] = 1;
        sender[0] = frame.getLong(9);
        receivedFromSender[0] = counter(receivedBytes, sender[0]);
        answers.sentToAsker = counter(sentBytes, sender[0]);
        inbound.computeIfAbsent(sender[0], k -> new ArrayList<>()).add(socket);
        socket.closeHandler(v -> {
          List<NetSocket> list = inbound.get(sender[0]);
          if (list != null) {
            list.remove(socket);
          }
        });
        socket.write(Frames.frame(Frames.HELLO_OK, Buffer.buffer(16).appendLong(clusterId).appendLong(localId)));
        return;
      }
      if (state[0] != 1 || cut.contains(sender[0])) {
        return;
      }
      receivedFromSender[0].add(frame.length());
      switch (kind) {
        case Frames.RAFT -> {
          Message m;
          try {
            m = MessageCodec.decode(frame.getBytes(1, frame.length()));
          } catch (IllegalArgumentException e) {
            log.warn("dropping a malformed raft message from {}: {}", Long.toHexString(sender[0]), e.getMessage());
            return;
          }
          messageHandler.handle(m);
        }
        case Frames.REQUEST -> answer(answers, frame.getLong(1), frame.getBuffer(9, frame.length()));
        default -> log.warn("unexpected frame kind {} from {}", kind, Long.toHexString(sender[0]));
      }
    }, () -> {
      log.warn("closing the connection from {}: frame too large", socket.remoteAddress());
      socket.close();
    }));
    socket.exceptionHandler(e -> { });
  }

  /** Returns why a connection must be refused, or null to accept it. */
  private String checkHello(byte kind, Buffer frame, NetSocket socket) {
    if (kind != Frames.HELLO || frame.length() < 25) {
      log.warn("refusing a peer connection from {}: no handshake", socket.remoteAddress());
      return "no handshake";
    }
    long remoteCluster = frame.getLong(1);
    long remoteSender = frame.getLong(9);
    long remoteReceiver = frame.getLong(17);
    if (remoteCluster != clusterId) {
      log.warn("refusing a peer connection from member {} ({}): cluster ID mismatch (local {}, remote {})",
          Long.toHexString(remoteSender), socket.remoteAddress(), Long.toHexString(clusterId),
          Long.toHexString(remoteCluster));
      return "cluster ID mismatch: local " + Long.toHexString(clusterId) + ", remote " + Long.toHexString(remoteCluster);
    }
    if (refused.test(remoteSender)) {
      return "member removed: " + Long.toHexString(remoteSender) + " was removed from the cluster";
    }
    if (remoteReceiver != localId) {
      log.warn("refusing a peer connection from member {}: it wants member {}, this is {}",
          Long.toHexString(remoteSender), Long.toHexString(remoteReceiver), Long.toHexString(localId));
      return "member ID mismatch: this is " + Long.toHexString(localId);
    }
    return null;
  }

  private void answer(AnswerOutbox outbox, long requestId, Buffer payload) {
    Future<Buffer> answer;
    try {
      answer = requestHandler.apply(payload);
    } catch (RuntimeException e) {
      answer = Future.failedFuture(e);
    }
    answer.onComplete(ar -> {
      Buffer body = Buffer.buffer().appendLong(requestId);
      if (ar.succeeded()) {
        body.appendInt(0).appendBuffer(ar.result());
      } else {
        int code = ar.cause() instanceof PeerRequestException p && p.code() > 0 ? p.code() : 2;
        body.appendInt(code).appendBytes(String.valueOf(ar.cause().getMessage()).getBytes(StandardCharsets.UTF_8));
      }
      onContext(() -> outbox.add(Frames.frame(Frames.RESPONSE, body)));
    });
  }

  /** The head of the queue as one buffer: its first frame and those after it while they fit in a batch. */
  static Buffer takeBatch(ArrayDeque<Buffer> queue) {
    Buffer first = queue.poll();
    if (queue.isEmpty() || first.length() + queue.peek().length() > WRITE_BATCH_BYTES_MAX) {
      return first;
    }
    Buffer batch = Buffer.buffer(Math.min(WRITE_BATCH_BYTES_MAX, 4 * (first.length() + queue.peek().length())))
        .appendBuffer(first);
    while (!queue.isEmpty() && batch.length() + queue.peek().length() <= WRITE_BATCH_BYTES_MAX) {
      batch.appendBuffer(queue.poll());
    }
    return batch;
  }

  /**
   * An action run once when the current event-loop task is done, however often it is asked for
   * during it: the frames a task produces for one socket then share one write call.
   */
  private final class EndOfTask {
    private final Runnable action;
    private boolean scheduled;

    EndOfTask(Runnable action) {
      this.action = action;
    }

    void request() {
      if (!scheduled) {
        scheduled = true;
        context.runOnContext(v -> {
          scheduled = false;
          action.run();
        });
      }
    }
  }

  /** Answers on one inbound connection, written together once the current event-loop task is done. */
  private final class AnswerOutbox {
    final NetSocket socket;
    final ArrayDeque<Buffer> frames = new ArrayDeque<>();
    final EndOfTask writeAll = new EndOfTask(this::writeAll);
    /** The dialing member's counter: set once its HELLO is accepted, before any request can come. */
    java.util.concurrent.atomic.LongAdder sentToAsker;

    AnswerOutbox(NetSocket socket) {
      this.socket = socket;
    }

    void add(Buffer frame) {
      if (socket.writeQueueFull() || frames.size() >= QUEUE_FRAMES_MAX) {
        return; // a connection this far behind: the asker's timeout answers it
      }
      frames.add(frame);
      writeAll.request();
    }

    private void writeAll() {
      while (!frames.isEmpty()) {
        Buffer batch = takeBatch(frames);
        sentToAsker.add(batch.length());
        socket.write(batch);
      }
    }
  }

  // ---- the dialer side ----

  private record PendingRequest(Promise<Buffer> promise, long timerId) {}

  private final class Peer {
    final long id;
    URI url;
    final ArrayDeque<Buffer> queue = new ArrayDeque<>();
    final Map<Long, PendingRequest> pending = new HashMap<>();
    long queuedBytes;
    final EndOfTask flushAtEndOfTask = new EndOfTask(this::flush);
    long dropped;
    NetSocket socket;
    boolean accepted;
    long activeSinceNanos;
    boolean gone;
    long backoffMillis = BACKOFF_MIN_MILLIS;
    long redialTimer = -1;
    String lastProblem;
    final java.util.concurrent.atomic.LongAdder sentTo;
    final java.util.concurrent.atomic.LongAdder receivedFrom;

    Peer(long id, URI url) {
      this.id = id;
      this.url = url;
      this.sentTo = counter(sentBytes, id);
      this.receivedFrom = counter(receivedBytes, id);
    }

    void dial() {
      if (gone || closed) {
        return;
      }
      io.vertx.core.net.ConnectOptions to = new io.vertx.core.net.ConnectOptions().setHost(url.getHost())
          .setPort(url.getPort());
      if (url.getScheme().equals("https")) {
        to.setSsl(true).setSslOptions(clientSsl);
      }
      client.connect(to).onComplete(ar -> {
        if (ar.failed()) {
          problem("cannot reach " + url + ": " + ar.cause().getMessage());
          redial();
          return;
        }
        NetSocket s = ar.result();
        if (gone || closed) {
          s.close();
          return;
        }
        socket = s;
        s.handler(Frames.parser(FRAME_BYTES_MAX, this::onFrame, s::close));
        s.exceptionHandler(e -> { });
        s.closeHandler(v -> onClosed(s));
        s.drainHandler(v -> flush());
        s.write(Frames.frame(Frames.HELLO,
            Buffer.buffer(24).appendLong(clusterId).appendLong(localId).appendLong(id)));
        flush();
      });
    }

    void onFrame(Buffer frame) {
      receivedFrom.add(frame.length());
      switch (frame.getByte(0)) {
        case Frames.HELLO_OK -> {
          accepted = true;
          activeSinceNanos = System.nanoTime();
          backoffMillis = BACKOFF_MIN_MILLIS;
          if (lastProblem != null || dropped > 0) {
            log.info("peer {} is active again{}", Long.toHexString(id),
                dropped > 0 ? " (" + dropped + " messages dropped meanwhile)" : "");
          } else {
            log.info("connected to peer {} at {}", Long.toHexString(id), url);
          }
          lastProblem = null;
          dropped = 0;
        }
        case Frames.REJECT -> {
          backoffMillis = BACKOFF_MAX_MILLIS;
          if (frame.getString(1, frame.length(), "UTF-8").startsWith("member removed")) {
            onRefusedSelf.run();
          }
          problem("peer " + Long.toHexString(id) + " refused the connection: "
              + frame.getString(1, frame.length(), "UTF-8"));
        }
        case Frames.RESPONSE -> {
          long requestId = frame.getLong(1);
          PendingRequest p = pending.remove(requestId);
          if (p == null) {
            return;
          }
          vertx.cancelTimer(p.timerId);
          int status = frame.getInt(9);
          if (status == 0) {
            p.promise.complete(frame.getBuffer(13, frame.length()));
          } else {
            p.promise.fail(new PeerRequestException(status, frame.getString(13, frame.length(), "UTF-8")));
          }
        }
        default -> { }
      }
    }

    void onClosed(NetSocket s) {
      if (socket != s) {
        return;
      }
      socket = null;
      if (accepted) {
        problem("lost the connection to peer " + Long.toHexString(id));
      }
      accepted = false;
      for (PendingRequest p : pending.values()) {
        vertx.cancelTimer(p.timerId);
        p.promise.fail(new PeerRequestException(PeerRequestException.NO_ANSWER, "connection lost"));
      }
      pending.clear();
      redial();
    }

    void redial() {
      if (gone || closed || redialTimer >= 0) {
        return;
      }
      long delay = backoffMillis;
      backoffMillis = Math.min(BACKOFF_MAX_MILLIS, backoffMillis * 2);
      redialTimer = vertx.setTimer(delay, t -> {
        redialTimer = -1;
        dial();
      });
    }

    /** Logs a connection problem once, not on every retry. */
    void problem(String what) {
      if (!what.equals(lastProblem)) {
        log.warn(what);
        lastProblem = what;
      }
    }

    boolean enqueue(Buffer frame, boolean droppable) {
      if (queue.size() >= QUEUE_FRAMES_MAX || queuedBytes + frame.length() > QUEUE_BYTES_MAX) {
        dropped++;
        if (dropped == 1 || dropped % 1000 == 0) {
          log.warn("peer {}: outbound queue full, dropped {} messages", Long.toHexString(id), dropped);
        }
        return false;
      }
      queue.add(frame);
      queuedBytes += frame.length();
      flushAtEndOfTask.request(); // the frames of one raft Ready share one write call
      return true;
    }

    void flush() {
      NetSocket s = socket;
      while (s != null && !queue.isEmpty() && !s.writeQueueFull()) {
        Buffer batch = takeBatch(queue);
        queuedBytes -= batch.length();
        sentTo.add(batch.length());
        s.write(batch);
      }
    }

    void close() {
      gone = true;
      if (redialTimer >= 0) {
        vertx.cancelTimer(redialTimer);
      }
      if (socket != null) {
        socket.close();
      }
      for (PendingRequest p : pending.values()) {
        vertx.cancelTimer(p.timerId);
        p.promise.fail(new PeerRequestException(PeerRequestException.NO_ANSWER, "member removed"));
      }
      pending.clear();
      queue.clear();
      queuedBytes = 0;
    }
  }
}
