package io.vetcd.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vetcd.raft.Entry;
import io.vetcd.raft.EntryType;
import io.vetcd.raft.Message;
import io.vetcd.raft.MessageType;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PeerTransportTest {
  /** Member ids are unsigned: half of them are negative as Java longs. */
  private static final long B = 0x9e737febb6b99eeeL;
  private Vertx vertx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private record Node(PeerTransport transport, LinkedBlockingQueue<Message> inbox, String url) {}

  /** A transport created on its own event-loop context, listening on a free loopback port. */
  private Node node(long clusterId, long id, int port) throws Exception {
    CompletableFuture<Node> created = new CompletableFuture<>();
    LinkedBlockingQueue<Message> inbox = new LinkedBlockingQueue<>();
    String url = "http://127.0.0.1:" + port;
    vertx.getOrCreateContext().runOnContext(v -> {
      PeerTransport t = new PeerTransport(vertx, clusterId, id);
      t.messageHandler(inbox::add);
      t.requestHandler(b -> b.toString().equals("fail")
          ? Future.failedFuture(new PeerRequestException(14, "etcdserver: no leader"))
          : Future.succeededFuture(Buffer.buffer("echo:" + b)));
      t.listen(List.of(URI.create(url))).onComplete(ar -> {
        if (ar.succeeded()) {
          created.complete(new Node(t, inbox, url));
        } else {
          created.completeExceptionally(ar.cause());
        }
      });
    });
    return created.get(10, TimeUnit.SECONDS);
  }

  private static Message append(long from, long to, long index) {
    return new Message(MessageType.APPEND, from, to, 3, 2, index - 1,
        List.of(new Entry(3, index, EntryType.NORMAL, ("v" + index).getBytes())), index - 1, false, 0, null, null);
  }

  @Test
  void when_two_members_dial_each_other_then_messages_and_requests_flow_both_ways() throws Exception {
    Node a = node(7, 1, freePort());
    Node b = node(7, B, freePort());
    a.transport.addPeer(B, List.of(b.url));
    b.transport.addPeer(1, List.of(a.url));
    for (int i = 1; i <= 100; i++) {
      a.transport.send(append(1, B, i));
    }
    b.transport.send(append(B, 1, 42));
    for (int i = 1; i <= 100; i++) {
      Message m = b.inbox.poll(5, TimeUnit.SECONDS);
      assertNotNull(m, "message " + i);
      assertEquals(i, m.entries().get(0).index());
      assertEquals("v" + i, new String(m.entries().get(0).data()));
    }
    assertEquals(42, a.inbox.poll(5, TimeUnit.SECONDS).entries().get(0).index());

    // Requests need a live connection (they fail at once without one): both dialed, and one of the
    // two crossing connections may still be settling.
    for (int i = 0; i < 100 && !a.transport.connected(B); i++) {
      Thread.sleep(50);
    }
    assertEquals("echo:ping", a.transport.request(B, Buffer.buffer("ping"), 5000).await(5, TimeUnit.SECONDS).toString());
    PeerRequestException e = (PeerRequestException) a.transport.request(B, Buffer.buffer("fail"), 5000)
        .transform(ar -> Future.succeededFuture(ar.cause())).await(5, TimeUnit.SECONDS);
    assertEquals(14, e.code());
    assertEquals("etcdserver: no leader", e.getMessage());
  }

  @Test
  void when_the_cluster_id_differs_then_the_connection_is_refused() throws Exception {
    Node a = node(7, 1, freePort());
    Node stranger = node(8, 2, freePort());
    stranger.transport.addPeer(1, List.of(a.url));
    stranger.transport.send(append(2, 1, 1));
    assertNull(a.inbox.poll(1, TimeUnit.SECONDS));
    assertFalse(stranger.transport.connected(1));
  }

  @Test
  void when_a_peer_restarts_then_the_sender_reconnects() throws Exception {
    // a dials b's port while nothing listens there: from an ephemeral port, the kernel may pick that
    // very port as the dial's source (a TCP self-connect) and b could not bind it again
    int portB = freePortBelowEphemeralRange();
    Node a = node(7, 1, freePort());
    a.transport.addPeer(2, List.of("http://127.0.0.1:" + portB));
    a.transport.send(append(1, 2, 1)); // queued while b is down
    Node b = node(7, 2, portB);
    assertEquals(1, b.inbox.poll(5, TimeUnit.SECONDS).index() + 1);
    b.transport.close().await(5, TimeUnit.SECONDS);
    Node b2 = node(7, 2, portB);
    Message got = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (got == null && System.nanoTime() < deadline) {
      a.transport.send(append(1, 2, 9)); // raft retransmits; some may be lost with the old connection
      got = b2.inbox.poll(200, TimeUnit.MILLISECONDS);
    }
    assertNotNull(got);
    while (!a.transport.connected(2) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(a.transport.connected(2));
  }

  /** A free port under Linux's default ephemeral range (32768-60999), which outgoing dials never take. */
  static int freePortBelowEphemeralRange() throws IOException {
    java.util.Random random = new java.util.Random();
    for (int attempt = 0; attempt < 100; attempt++) {
      int port = 20_000 + random.nextInt(12_000);
      try (ServerSocket socket = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
        return socket.getLocalPort();
      } catch (IOException inUse) {
        // try another
      }
    }
    throw new IOException("no free port in 20000-31999");
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
