package io.vetcd.cluster;

import static io.vetcd.cluster.MemberProcess.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vertx.grpc.common.GrpcStatus;
import io.vetcd.client.GetOptions;
import io.vetcd.client.VetcdClient;
import io.vetcd.client.VetcdException;
import io.vetcd.pb.MemberAddResponse;
import io.vetcd.pb.StatusResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Member processes on loopback: a learner refuses what etcd 3.4's learners refuse, and
 * {@code --strict-reconfig-check} (on by default) refuses membership changes that risk the quorum, with
 * etcd's errors (both checked against etcd 3.4.23):
 * <ul>
 *   <li>on a learner, everything but Status and serializable Range fails with UNAVAILABLE
 *       {@code etcdserver: rpc not supported for learner};
 *   <li>adding a member, or removing a live voter, while a voter is down: UNAVAILABLE
 *       {@code etcdserver: unhealthy cluster}; removing the member that is down is allowed;
 *   <li>adding a voter, or removing one, when too few voters have started (published their name):
 *       UNKNOWN {@code etcdserver: re-configuration failed due to not enough started members}.
 * </ul>
 */
class LearnerAndStrictReconfigProcessTest {
  static final Duration T = Duration.ofSeconds(10);
  final List<Node> nodes = new ArrayList<>();
  Path root;

  /** A member process with a client bound to it alone, without retries. */
  final class Node extends MemberProcess {
    VetcdClient client;

    Node(String name) {
      super(name, root);
    }

    void start(String initialCluster, String state) throws IOException {
      startInCluster("learners", initialCluster, "--initial-cluster-state", state);
      client = VetcdClient.builder().endpoints(endpoint()).requestTimeout(T).maxRetries(0).build();
    }

    StatusResponse status() {
      try {
        return client.maintenance().status().block(Duration.ofSeconds(3));
      } catch (RuntimeException e) {
        return null;
      }
    }

    long id() {
      return status().getHeader().getMemberId();
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Node n : nodes) {
      if (n.isAlive()) {
        n.kill9();
      }
      if (n.client != null) {
        n.client.close();
      }
    }
    if (root != null) {
      try (var files = Files.walk(root)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  static String initialCluster(List<Node> members) {
    return members.stream().map(n -> n.name + "=" + n.peerUrl()).collect(Collectors.joining(","));
  }

  @Test
  void learners_refuse_client_requests_and_strict_reconfig_check_protects_the_quorum() throws Exception {
    root = Files.createTempDirectory("vetcd-learner");
    for (int i = 1; i <= 3; i++) {
      nodes.add(new Node("l" + i));
    }
    for (Node n : nodes) {
      n.start(initialCluster(nodes), "new");
    }
    Node m1 = nodes.get(0);
    Node m2 = nodes.get(1);
    Node m3 = nodes.get(2);
    await("a leader", 90_000, () -> nodes.stream().allMatch(n -> n.status() != null && n.status().getLeader() != 0));
    m1.client.kv().put("k", "v").block(T);

    // A learner joins (right after start the members may not have been connected for etcd's health
    // interval yet: then etcd answers "unhealthy cluster", and so does vetcd; try again).
    Node learner = new Node("l4");
    nodes.add(learner);
    MemberAddResponse added = retryWhileUnhealthy(() -> m1.client.cluster().memberAdd(List.of(learner.peerUrl()), true)
        .block(T));
    assertTrue(added.getMember().getIsLearner());
    learner.start(initialCluster(nodes), "existing");
    await("the learner to catch up", 60_000, () -> {
      try {
        var r = learner.client.kv().get("k", GetOptions.options().serializable()).block(T);
        return r.getKvsCount() == 1;
      } catch (RuntimeException e) {
        return false;
      }
    });

    // What a learner serves: its status and serializable reads.
    StatusResponse status = learner.status();
    assertTrue(status != null && status.getLeader() != 0, "a learner answers Status");
    assertTrue(status.getIsLearner(), "and says it is a learner, as etcd's endpoint status shows");
    assertEquals("v", learner.client.kv().get("k", GetOptions.options().serializable()).block(T)
        .getKvs(0).getValue().toStringUtf8());
    // And what it refuses.
    assertLearnerRefuses(() -> learner.client.kv().get("k").block(T));
    assertLearnerRefuses(() -> learner.client.kv().put("k", "w").block(T));
    assertLearnerRefuses(() -> learner.client.kv().delete("k").block(T));
    assertLearnerRefuses(() -> learner.client.lease().grant(30).block(T));
    assertLearnerRefuses(() -> learner.client.cluster().memberList().block(T));
    assertLearnerRefuses(() -> learner.client.maintenance().hashKV(0).block(T));
    // The HTTP gateway too (etcd's calls its own gRPC API): 503 with the message; serializable reads work.
    var http = java.net.http.HttpClient.newHttpClient();
    var put = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(learner.endpoint() + "/v3/kv/put"))
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"key\":\"aw==\",\"value\":\"dw==\"}")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(503, put.statusCode(), put::body);
    assertTrue(put.body().contains("etcdserver: rpc not supported for learner"), put::body);
    var read = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(learner.endpoint() + "/v3/kv/range"))
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"key\":\"aw==\",\"serializable\":true}")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, read.statusCode(), read::body);
    // and a WebSocket watch gets the error as its only frame, then the socket closes
    java.util.concurrent.CompletableFuture<String> frame = new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.CompletableFuture<Integer> closed = new java.util.concurrent.CompletableFuture<>();
    http.newWebSocketBuilder().buildAsync(java.net.URI.create(learner.endpoint().replace("http://", "ws://") + "/v3/watch"),
        new java.net.http.WebSocket.Listener() {
          @Override
          public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket ws, CharSequence data, boolean last) {
            frame.complete(data.toString());
            ws.request(1);
            return null;
          }

          @Override
          public java.util.concurrent.CompletionStage<?> onClose(java.net.http.WebSocket ws, int status, String reason) {
            closed.complete(status);
            return null;
          }
        }).get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertTrue(frame.get(10, java.util.concurrent.TimeUnit.SECONDS).contains("etcdserver: rpc not supported for learner"));
    closed.get(10, java.util.concurrent.TimeUnit.SECONDS);

    // New peer URLs for a live member do not make it look unhealthy: as in etcd, the connection that
    // is up stays, so a member can be added right after (etcd allows it; vetcd refused it for 5 s).
    long m2IdBeforeUpdate = m2.id();
    m1.client.cluster().memberUpdate(m2IdBeforeUpdate, List.of("http://localhost:" + m2.peerPort)).block(T);
    MemberAddResponse another = m1.client.cluster().memberAdd(List.of("http://127.0.0.1:" + freePort()), false)
        .block(T);
    m1.client.cluster().memberRemove(another.getMember().getID()).block(T);
    m2.client.kv().put("k", "v").block(T);

    // A voter down: no member may be added, no live voter removed; the member that is down may go.
    long m2Id = m2.id();
    long m3Id = idOf(m1, m3);
    m3.kill9();
    // m1 must know a leader other than m3 (if m3 led, m1 takes an election timeout to notice)
    await("a leader without " + m3.name, 30_000, () -> {
      var seen = m1.status();
      return seen != null && seen.getLeader() != 0 && seen.getLeader() != m3Id;
    });
    assertError(GrpcStatus.UNAVAILABLE, "etcdserver: unhealthy cluster",
        () -> m1.client.cluster().memberAdd(List.of("http://127.0.0.1:" + freePort()), false).block(T));
    assertError(GrpcStatus.UNAVAILABLE, "etcdserver: unhealthy cluster",
        () -> m1.client.cluster().memberRemove(m2Id).block(T));
    m1.client.cluster().memberRemove(m3Id).block(T);
    nodes.remove(m3);
    m3.client.close();
    m3.client = null;

    // Voters l1, l2 (started) and a voter added but never started: enough for one unstarted voter,
    // not for two; and removing a started voter would leave too few started ones.
    retryWhileUnhealthy(() -> m1.client.cluster().memberAdd(List.of("http://127.0.0.1:" + freePort()), false)
        .block(T));
    assertError(GrpcStatus.UNKNOWN, "etcdserver: re-configuration failed due to not enough started members",
        () -> m1.client.cluster().memberAdd(List.of("http://127.0.0.1:" + freePort()), false).block(T));
    assertError(GrpcStatus.UNKNOWN, "etcdserver: re-configuration failed due to not enough started members",
        () -> m2.client.cluster().memberRemove(m1.id()).block(T));
    // The cluster still works.
    m2.client.kv().put("k", "after").block(T);
    assertEquals("after", m1.client.kv().get("k").block(T).getKvs(0).getValue().toStringUtf8());
  }

  static long idOf(Node via, Node member) {
    return via.client.cluster().memberList().block(T).getMembersList().stream()
        .filter(m -> m.getName().equals(member.name)).findFirst().orElseThrow().getID();
  }

  static void assertLearnerRefuses(Runnable call) {
    assertError(GrpcStatus.UNAVAILABLE, "etcdserver: rpc not supported for learner", call);
  }

  static void assertError(GrpcStatus status, String message, Runnable call) {
    VetcdException e = assertThrows(VetcdException.class, call::run);
    assertEquals(message, e.etcdMessage(), e::toString);
    assertEquals(status, e.status(), e::toString);
  }

  static <T> T retryWhileUnhealthy(Supplier<T> call) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        return call.get();
      } catch (VetcdException e) {
        if (!e.etcdMessage().equals("etcdserver: unhealthy cluster") || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(500);
      }
    }
  }

  static void await(String what, long timeoutMillis, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("no " + what + " after " + timeoutMillis + " ms");
      }
      Thread.sleep(200);
    }
  }
}
