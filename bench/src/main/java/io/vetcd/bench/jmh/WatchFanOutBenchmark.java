package io.vetcd.bench.jmh;

import com.google.protobuf.ByteString;
import io.vetcd.pb.Event;
import io.vetcd.pb.KeyValue;
import io.vetcd.pb.WatchCreateRequest;
import io.vetcd.watch.Outgoing;
import io.vetcd.watch.WatchHub;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Watch fan-out in the pure {@link WatchHub}: {@code watchers} synced watchers (one stream each) on a
 * prefix, of which {@code matchingPercent} match the written key; each invocation hands the hub one
 * revision with one PUT event and gets the responses to send. The score is revisions per second.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class WatchFanOutBenchmark {
  @Param({"10", "1000"})
  public int watchers;

  @Param({"100", "10"})
  public int matchingPercent;

  private WatchHub hub;
  private long revision = 1;
  private List<Event> events;

  @Setup(Level.Trial)
  public void start() {
    hub = new WatchHub(revision, 0);
    ByteString watched = ByteString.copyFromUtf8("watched/");
    ByteString other = ByteString.copyFromUtf8("other/");
    for (int i = 0; i < watchers; i++) {
      boolean matching = i * 100L < (long) matchingPercent * watchers;
      ByteString prefix = matching ? watched : other;
      hub.create(i, WatchCreateRequest.newBuilder().setKey(prefix).setRangeEnd(prefixEnd(prefix)).build());
    }
    KeyValue kv = KeyValue.newBuilder().setKey(ByteString.copyFromUtf8("watched/00000001"))
        .setValue(ByteString.copyFrom(new byte[256])).setVersion(1).build();
    events = List.of(Event.newBuilder().setType(Event.EventType.PUT).setKv(kv).build());
  }

  private static ByteString prefixEnd(ByteString prefix) {
    byte[] end = prefix.toByteArray();
    end[end.length - 1]++;
    return ByteString.copyFrom(end);
  }

  @Benchmark
  public List<Outgoing> onRevision() {
    revision++;
    return hub.onRevision(revision, events);
  }
}
