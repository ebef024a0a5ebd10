package io.vetcd.bench.jmh;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vetcd.bus.Commands;
import io.vetcd.bus.LocalCodec;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.internal.InternalRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The local event bus with vetcd's {@link LocalCodec}: request/reply round trips of a
 * {@link Commands.Write} to a consumer on an event loop, {@value #REQUESTS_PER_INVOCATION} in flight at
 * a time (as the frontends send them). The score is round trips per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class EventBusCodecBenchmark {
  static final int REQUESTS_PER_INVOCATION = 1000;
  private static final String ADDRESS = "jmh.apply";

  private Vertx vertx;
  private Commands.Write write;

  @Setup(Level.Trial)
  public void start() throws Exception {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    LocalCodec.register(vertx.eventBus(), Commands.Write.class);
    vertx.eventBus().<Commands.Write>consumer(ADDRESS, m -> m.reply(m.body()))
        .completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    write = new Commands.Write(InternalRequest.newBuilder()
        .setPut(PutRequest.newBuilder().setKey(com.google.protobuf.ByteString.copyFromUtf8("00000001"))
            .setValue(com.google.protobuf.ByteString.copyFrom(new byte[256])))
        .build());
  }

  @TearDown(Level.Trial)
  public void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Benchmark
  @OperationsPerInvocation(REQUESTS_PER_INVOCATION)
  public Object requestReply() throws Exception {
    List<Future<?>> replies = new ArrayList<>(REQUESTS_PER_INVOCATION);
    for (int i = 0; i < REQUESTS_PER_INVOCATION; i++) replies.add(vertx.eventBus().request(ADDRESS, write));
    return Future.all(replies).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
