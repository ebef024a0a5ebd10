package io.vetcd.bench.jmh;

import io.vetcd.wal.Wal;
import io.vetcd.wal.WalEntry;
import io.vetcd.wal.WalHardState;
import io.vetcd.wal.WalSnapshotMarker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * WAL append with group commit: one fsync per batch of {@code entriesPerSync} entries of
 * {@code entryBytes}. The score is batches (fsyncs) per second; the {@code entries} counter gives the
 * entries per second, which is what group commit buys.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class WalBenchmark {
  @Param({"1", "16", "128"})
  public int entriesPerSync;

  @Param({"256"})
  public int entryBytes;

  /** JMH reports this as entries per second beside the score. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Entries {
    public long entries;
  }

  private Path dir;
  private Wal wal;
  private byte[] data;
  private long nextIndex = 1;

  @Setup(Level.Trial)
  public void open() throws IOException {
    dir = Files.createTempDirectory("vetcd-jmh-wal");
    wal = Wal.open(dir, 16L << 20);
    data = new byte[entryBytes];
  }

  /** Drops the segments written so far (as after a raft snapshot), so the disk does not fill up. */
  @TearDown(Level.Iteration)
  public void release() throws IOException {
    if (nextIndex > 1) {
      wal.saveSnapshotMarker(new WalSnapshotMarker(nextIndex - 1, 1));
      wal.releaseBefore(nextIndex);
    }
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    wal.close();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Benchmark
  public void appendAndSync(Entries counter) throws IOException {
    List<WalEntry> batch = new ArrayList<>(entriesPerSync);
    for (int i = 0; i < entriesPerSync; i++) batch.add(new WalEntry(1, nextIndex++, 0, data));
    wal.append(batch, new WalHardState(1, 1, nextIndex - 1));
    wal.sync();
    counter.entries += entriesPerSync;
  }
}
