package io.vetcd.bench.jmh;

import io.vetcd.raft.Message;
import io.vetcd.raft.RaftConfig;
import io.vetcd.raft.RaftNode;
import io.vetcd.raft.Ready;
import io.vetcd.raft.Role;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The raft core alone: a three-node cluster in memory (no WAL, no network) commits
 * {@code proposalsPerRound} proposals of 256 bytes per round: the leader steps the proposals, every
 * node's Ready is handled and its messages stepped into their recipients until all is quiet. The
 * score is rounds per second; the {@code entries} counter gives committed entries per second.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class RaftStepBenchmark {
  private static final long COMPACT_EVERY_ENTRIES = 10_000;

  @Param({"1", "64"})
  public int proposalsPerRound;

  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Entries {
    public long entries;
  }

  private final Map<Long, RaftNode> nodes = new LinkedHashMap<>();
  private final ArrayDeque<Message> inFlight = new ArrayDeque<>();
  private RaftNode leader;
  private byte[] proposal;
  private long committedSinceCompact;

  @Setup(Level.Trial)
  public void start() {
    List<Long> voters = List.of(1L, 2L, 3L);
    for (long id : voters) {
      RaftConfig config = new RaftConfig(id, voters);
      config.randomSeed = id;
      nodes.put(id, RaftNode.start(config, null, null, List.of()));
    }
    leader = nodes.get(1L);
    leader.campaign();
    settle();
    if (leader.role() != Role.LEADER) throw new IllegalStateException("node 1 did not become leader: " + leader);
    proposal = new byte[256];
  }

  /** Handles every Ready and delivers every message until no node has anything left to do. */
  private long settle() {
    long committed = 0;
    boolean busy = true;
    while (busy) {
      busy = false;
      for (RaftNode node : nodes.values()) {
        if (node.hasReady()) {
          Ready ready = node.ready();
          inFlight.addAll(ready.messages());
          if (node == leader) committed += ready.committedEntries().size();
          node.advance(ready);
          busy = true;
        }
      }
      Message m;
      while ((m = inFlight.pollFirst()) != null) {
        nodes.get(m.to()).step(m);
        busy = true;
      }
    }
    return committed;
  }

  @Benchmark
  public long proposeAndCommit(Entries counter) {
    for (int i = 0; i < proposalsPerRound; i++) leader.propose(proposal);
    long committed = settle();
    counter.entries += committed;
    committedSinceCompact += committed;
    if (committedSinceCompact >= COMPACT_EVERY_ENTRIES) {
      for (RaftNode node : nodes.values()) node.compact(node.appliedIndex(), null);
      committedSinceCompact = 0;
    }
    return committed;
  }
}
