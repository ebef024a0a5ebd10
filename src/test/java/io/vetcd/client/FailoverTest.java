package io.vetcd.client;

import static org.junit.jupiter.api.Assertions.*;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import io.vetcd.pb.KVGrpcService;
import io.vetcd.pb.RangeResponse;
import io.vetcd.pb.ResponseHeader;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Retry rules, against a fake KV server that misbehaves on purpose: it swallows every Put (never
 * answers) and answers Range only from the second attempt on. Then failover over a dead endpoint, and
 * over a silent one (a paused member: the kernel accepts the connection, nobody answers).
 */
class FailoverTest {
  static final Duration T = Duration.ofSeconds(10);
  Vertx vertx;
  HttpServer server;
  final AtomicInteger puts = new AtomicInteger();
  final AtomicInteger ranges = new AtomicInteger();
  final AtomicInteger txns = new AtomicInteger();
  final List<String> hasLeader = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    GrpcServer grpc = GrpcServer.server(vertx);
    grpc.callHandler(KVGrpcService.Put, req -> {
      hasLeader.add(String.valueOf(req.headers().get("hasleader")));
      req.handler(m -> puts.incrementAndGet()); // and never answer
    });
    grpc.callHandler(KVGrpcService.Txn, req -> req.handler(m -> {
      txns.incrementAndGet();
      req.response().status(GrpcStatus.UNAVAILABLE).statusMessage("etcdserver: leader changed").end();
    }));
    grpc.callHandler(KVGrpcService.Range, req -> {
      hasLeader.add(String.valueOf(req.headers().get("hasleader")));
      req.handler(m -> {
        if (ranges.incrementAndGet() == 1) {
          req.response().status(GrpcStatus.UNAVAILABLE).statusMessage("etcdserver: no leader").end();
        } else {
          req.response().end(RangeResponse.newBuilder().setHeader(ResponseHeader.newBuilder().setRevision(7)).build());
        }
      });
    });
    server = vertx.createHttpServer(new HttpServerOptions().setPort(0).setHost("127.0.0.1")).requestHandler(grpc)
        .listen().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  String fake() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  @Test
  void a_put_without_answer_is_reported_once_never_resent() throws Exception {
    try (VetcdClient c = VetcdClient.builder().endpoints(fake()).requestTimeout(Duration.ofMillis(500)).build()) {
      VetcdException e = assertThrows(VetcdException.class, () -> c.kv().put("k", "v").block(T));
      assertTrue(e.mayHaveBeenApplied(), e.toString());
      Thread.sleep(500);
      assertEquals(1, puts.get(), "the put was sent exactly once");
    }
  }

  @Test
  void a_read_is_retried_after_unavailable_and_every_request_says_hasleader() {
    try (VetcdClient c = VetcdClient.builder().endpoints(fake()).build()) {
      assertEquals(7, c.kv().get("k").block(T).getHeader().getRevision());
      assertEquals(2, ranges.get());
      assertEquals(List.of("true", "true"), hasLeader);
    }
  }

  @Test
  void unavailable_write_is_not_retried() throws Exception {
    // a txn with a put is a write: no retry even though the server said UNAVAILABLE
    try (VetcdClient c = VetcdClient.builder().endpoints(fake()).maxRetries(3).build()) {
      VetcdException e = assertThrows(VetcdException.class,
          () -> c.kv().txn().then(Op.put("a", "b")).commit().block(T));
      assertEquals(GrpcStatus.UNAVAILABLE, e.status());
      assertEquals("etcdserver: leader changed", e.etcdMessage());
      assertTrue(e.mayHaveBeenApplied());
      assertEquals(1, txns.get(), "sent once");
      // a read-only txn is safe to repeat: retried until the retries run out
      txns.set(0);
      assertThrows(VetcdException.class, () -> c.kv().txn().then(Op.get("a")).commit().block(T));
      assertTrue(txns.get() > 1, "read-only txn retried");
    }
  }

  @Test
  void dead_endpoint_is_skipped_for_reads_and_for_writes_that_never_left() throws Exception {
    try (InProcessMember member = new InProcessMember();
        VetcdClient c = VetcdClient.builder()
            .endpoints("http://127.0.0.1:" + InProcessMember.freePort(), member.endpoint()).build()) {
      assertEquals(0, c.kv().get("x").block(T).getCount());
      assertEquals(member.endpoint(), c.currentEndpoint());
    }
    try (InProcessMember member = new InProcessMember();
        VetcdClient c = VetcdClient.builder()
            .endpoints("http://127.0.0.1:" + InProcessMember.freePort(), member.endpoint()).build()) {
      // the connection to the first endpoint is refused: the put never left, so it may go to the next one
      assertTrue(c.kv().put("x", "1").block(T).getHeader().getRevision() > 1);
    }
  }

  /**
   * Regression: a member paused with SIGSTOP still has its connections accepted by the kernel, and
   * the HTTP/2 handshake then waited for it for ever, before any gRPC deadline was armed: every call
   * to it hung (the fault test's clients stayed blocked after the run). Now the connection must be
   * ready within the connect timeout, and the call moves on; a write that never left may move too.
   */
  @Test
  void a_silent_endpoint_is_given_up_after_the_connect_timeout_for_reads_writes_and_watches() throws Exception {
    List<Socket> held = new CopyOnWriteArrayList<>();
    try (ServerSocket silent = new ServerSocket(0)) {
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            held.add(silent.accept()); // and never a byte back
          }
        } catch (Exception closed) {
          // done
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      String mute = "http://127.0.0.1:" + silent.getLocalPort();
      try (VetcdClient c = VetcdClient.builder().endpoints(mute).connectTimeout(Duration.ofMillis(300))
          .maxRetries(1).build()) {
        VetcdException e = assertThrows(VetcdException.class, () -> c.kv().get("k").block(T));
        assertEquals(GrpcStatus.UNAVAILABLE, e.status(), e.toString());
        VetcdException w = assertThrows(VetcdException.class, () -> c.kv().put("k", "v").block(T));
        assertFalse(w.mayHaveBeenApplied(), "never sent: " + w);
      }
      try (VetcdClient c = VetcdClient.builder().endpoints(mute, fake()).connectTimeout(Duration.ofMillis(300))
          .build()) {
        assertEquals(7, c.kv().get("k").block(T).getHeader().getRevision());
        assertEquals(fake(), c.currentEndpoint());
      }
      try (InProcessMember member = new InProcessMember();
          VetcdClient c = VetcdClient.builder().endpoints(mute, member.endpoint())
              .connectTimeout(Duration.ofMillis(300)).build()) {
        assertTrue(c.kv().put("x", "1").block(T).getHeader().getRevision() > 1, "a write that never left moves on");
        List<io.vetcd.pb.Event> seen = new CopyOnWriteArrayList<>();
        try (VetcdClient w = VetcdClient.builder().endpoints(mute, member.endpoint())
            .connectTimeout(Duration.ofMillis(300)).build()) {
          reactor.core.Disposable d = w.watch().watch("x", WatchOptions.options().startRevision(1)).subscribe(seen::add);
          long deadline = System.nanoTime() + T.toNanos();
          while (seen.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
          }
          d.dispose();
          assertEquals(1, seen.size(), "the watch moved to the member that answers");
        }
      }
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }
}
