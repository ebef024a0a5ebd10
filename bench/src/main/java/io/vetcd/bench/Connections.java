package io.vetcd.bench;

import io.netty.channel.EventLoop;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vetcd.client.VetcdClient;
import io.vetcd.pb.StatusResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import reactor.core.scheduler.Schedulers;

/**
 * The client side of a run: one Vert.x instance and {@code --conns} {@link VetcdClient}s, each with its
 * own HTTP/2 connection. Answers are delivered on the Vert.x event loops (the load loops never block),
 * and nothing is retried, so every failure is counted.
 *
 * <p>Each connection belongs to an event-loop context of its own, taken in turn from the event loops
 * (one per CPU), and everything sent on it is sent from that context: the load uses every CPU like
 * etcd's Go benchmark does, and an answer never hops to another thread. (Calls made from the main
 * thread would all share one context, so one event loop would carry the whole load.)
 */
final class Connections implements AutoCloseable {
  final Vertx vertx;
  final List<VetcdClient> clients = new ArrayList<>();
  /** The event-loop context each client's connection was opened from, by index. */
  final List<Context> contexts = new ArrayList<>();
  final List<String> endpoints;
  /**
   * The load generator's own deadline per operation, a little past the request timeout: a call that
   * never completes (a stream the client waits for forever) is counted as a failure instead of
   * stalling the run.
   */
  final Duration operationDeadline;

  Connections(BenchOptions o) {
    this.operationDeadline = o.requestTimeout.plusSeconds(2);
    // native epoll when available (as the server): fewer copies and system calls per request
    this.vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(Math.max(2, Runtime.getRuntime().availableProcessors())));
    try {
      this.endpoints = o.targetLeader ? List.of(leaderEndpoint(vertx, o.endpoints, o.requestTimeout)) : o.endpoints;
      // like etcd's benchmark: connection i goes to endpoint i mod n (the others are its fallbacks)
      // the event loops in a fixed order: the group's own round robin is also advanced by whatever
      // else asks it for a loop (each client does), which can put every context on the same one
      VertxInternal internal = (VertxInternal) vertx;
      List<EventLoop> eventLoops = new ArrayList<>();
      internal.nettyEventLoopGroup().forEach(e -> eventLoops.add((EventLoop) e));
      for (int i = 0; i < o.connections; i++) {
        clients.add(client(vertx, rotated(endpoints, i), o.requestTimeout));
        contexts.add(internal.contextBuilder().withEventLoop(eventLoops.get(i % eventLoops.size())).build());
      }
      // open every connection, from its own context, before anything is measured
      for (int i = 0; i < clients.size(); i++) {
        VetcdClient c = clients.get(i);
        CompletableFuture<Object> opened = new CompletableFuture<>();
        contexts.get(i).runOnContext(v -> {
          try {
            c.maintenance().status().subscribe(opened::complete, opened::completeExceptionally);
          } catch (RuntimeException e) {
            opened.completeExceptionally(e); // its cause, not a timeout
          }
        });
        await(opened, o.requestTimeout.plusSeconds(1));
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** The client that load loop {@code loopIndex} uses: loops are spread evenly over the connections. */
  VetcdClient forLoop(int loopIndex) {
    return clients.get(loopIndex % clients.size());
  }

  /** The event-loop context that load loop {@code loopIndex} runs on: its client's. */
  Context contextForLoop(int loopIndex) {
    return contexts.get(loopIndex % contexts.size());
  }

  private static void await(CompletableFuture<?> future, Duration timeout) {
    try {
      future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("no answer within " + timeout.toMillis() + " ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static List<String> rotated(List<String> endpoints, int first) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < endpoints.size(); i++) out.add(endpoints.get((first + i) % endpoints.size()));
    return out;
  }

  private static VetcdClient client(Vertx vertx, List<String> endpoints, Duration requestTimeout) {
    return VetcdClient.builder()
        .endpoints(endpoints)
        .vertx(vertx)
        .requestTimeout(requestTimeout)
        .maxRetries(0)
        .callbackScheduler(Schedulers.immediate())
        .build();
  }

  /** Asks each endpoint for its status and returns the one that is the leader. */
  static String leaderEndpoint(Vertx vertx, List<String> endpoints, Duration requestTimeout) {
    for (String endpoint : endpoints) {
      try (VetcdClient c = client(vertx, List.of(endpoint), requestTimeout)) {
        StatusResponse s = c.maintenance().status().block(requestTimeout.plusSeconds(1));
        if (s != null && s.getLeader() != 0 && s.getLeader() == s.getHeader().getMemberId()) {
          return endpoint;
        }
      } catch (RuntimeException e) {
        // not reachable: try the next one
      }
    }
    throw new IllegalStateException("no endpoint of " + endpoints + " is the leader");
  }

  @Override
  public void close() {
    for (VetcdClient c : clients) c.close();
    vertx.close().toCompletionStage().toCompletableFuture().orTimeout(5, java.util.concurrent.TimeUnit.SECONDS)
        .exceptionally(e -> null).join();
  }
}
