package io.vetcd.bench.jmh;

import com.google.protobuf.ByteString;
import io.vetcd.mvcc.MvccStore;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.RangeRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * MVCC put and range on a store of {@code keyCount} keys of 8 bytes with 256-byte values, in MapDB's
 * file store (committed every {@code putsPerCommit} puts, as the apply verticle batches its commits) or
 * in memory. The range benchmarks read one key and a 100-key span through the key index.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class MvccStoreBenchmark {
  @Param({"file", "memory"})
  public String storage;

  @Param({"10000"})
  public int keyCount;

  @Param({"1000"})
  public int putsPerCommit;

  private Path dir;
  private MvccStore store;
  private ByteString[] keys;
  private ByteString value;
  private long puts;

  @Setup(Level.Trial)
  public void open() throws IOException {
    if (storage.equals("file")) {
      dir = Files.createTempDirectory("vetcd-jmh-mvcc");
      store = MvccStore.open(dir.resolve("db"));
    } else {
      store = MvccStore.inMemory();
    }
    keys = new ByteString[keyCount];
    for (int i = 0; i < keyCount; i++) keys[i] = ByteString.copyFromUtf8(String.format("%08d", i));
    value = ByteString.copyFrom(new byte[256]);
    for (ByteString key : keys) store.put(PutRequest.newBuilder().setKey(key).setValue(value).build());
    store.commit();
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    store.close();
    if (dir != null) {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private ByteString randomKey() {
    return keys[ThreadLocalRandom.current().nextInt(keyCount)];
  }

  @Benchmark
  public Object put() {
    Object result = store.put(PutRequest.newBuilder().setKey(randomKey()).setValue(value).build());
    if (++puts % putsPerCommit == 0) store.commit();
    return result;
  }

  @Benchmark
  public Object rangeOneKey() {
    return store.range(RangeRequest.newBuilder().setKey(randomKey()).build());
  }

  @Benchmark
  public Object rangeHundredKeys() {
    int first = ThreadLocalRandom.current().nextInt(keyCount - 100);
    return store.range(RangeRequest.newBuilder().setKey(keys[first]).setRangeEnd(keys[first + 100]).build());
  }
}
