package io.vetcd.bench;

import com.google.protobuf.ByteString;
import io.vetcd.client.GetOptions;
import io.vetcd.client.Op;
import io.vetcd.pb.LeaseGrantResponse;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.RequestOp;
import io.vetcd.pb.TxnRequest;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/** The request-response workloads of {@code bench/run}. */
final class Workloads {
  private Workloads() {}

  static RunResult run(BenchOptions o, Connections c) throws InterruptedException {
    return switch (o.command) {
      case "put" -> put(o, c);
      case "range" -> range(o, c);
      case "txn-put" -> txnPut(o, c);
      case "txn-mixed" -> txnMixed(o, c);
      case "watch" -> WatchWorkload.run(o, c, false);
      case "watch-latency" -> WatchWorkload.run(o, c, true);
      case "lease-keepalive" -> leaseKeepAlive(o, c);
      default -> throw new IllegalArgumentException("unknown subcommand " + o.command);
    };
  }

  static RunResult put(BenchOptions o, Connections c) throws InterruptedException {
    KeySource keys = new KeySource(o);
    ByteString value = KeySource.value(o.valueSizeBytes);
    return measured("put", o, c, o.clients, o.total, o.ratePerSecond, o.progress, List.of("put"),
        (client, seq) -> client.kv().put(PutRequest.newBuilder().setKey(keys.keyFor(seq)).setValue(value).build()));
  }

  /** Single-key gets of keys written (unmeasured) before the run. */
  static RunResult range(BenchOptions o, Connections c) throws InterruptedException {
    KeySource keys = new KeySource(o);
    prefill(o, c, keys);
    GetOptions options = o.consistency.equals("s") ? GetOptions.options().serializable() : GetOptions.options();
    return measured("range", o, c, o.clients, o.total, o.ratePerSecond, o.progress, List.of("range"),
        (client, seq) -> client.kv().get(keys.keyFor(seq), options));
  }

  /** {@code --warmup} unmeasured operations, then the measured run of {@code total}. */
  private static RunResult measured(String workload, BenchOptions o, Connections c, int loops, long total, double rate,
      boolean progress, List<String> kinds, LoadGenerator.Operation op) throws InterruptedException {
    if (o.warmup > 0) LoadGenerator.run(workload + "-warmup", c, loops, o.warmup, 0, false, kinds, op);
    return LoadGenerator.run(workload, c, loops, total, rate, progress, kinds, op);
  }

  /** Writes every key of the key space once, so that reads find values of {@code --val-size}. */
  static void prefill(BenchOptions o, Connections c, KeySource keys) throws InterruptedException {
    ByteString value = KeySource.value(o.valueSizeBytes);
    RunResult r = LoadGenerator.run("prefill", c, o.clients, o.keySpaceSize, 0, false, List.of("put"),
        (client, seq) -> client.kv().put(PutRequest.newBuilder().setKey(keys.key(seq)).setValue(value).build()));
    if (r.failed > 0) throw new IllegalStateException("prefill failed: " + r.errorCounts);
  }

  static RunResult txnPut(BenchOptions o, Connections c) throws InterruptedException {
    KeySource keys = new KeySource(o);
    ByteString value = KeySource.value(o.valueSizeBytes);
    return measured("txn-put", o, c, o.clients, o.total, o.ratePerSecond, o.progress, List.of("txn-put"),
        (client, seq) -> client.kv().txn(putTxn(o, keys, value, seq)));
  }

  /** {@code --txn-ops} puts of distinct keys (consecutive indexes from the key chosen for {@code seq}). */
  private static TxnRequest putTxn(BenchOptions o, KeySource keys, ByteString value, long seq) {
    TxnRequest.Builder txn = TxnRequest.newBuilder();
    long first = keys.indexFor(seq * o.txnOps);
    for (int i = 0; i < o.txnOps; i++) {
      txn.addSuccess(RequestOp.newBuilder().setRequestPut(
          PutRequest.newBuilder().setKey(keys.key((first + i) % o.keySpaceSize)).setValue(value)));
    }
    return txn.build();
  }

  /** Txns that read one key or write {@code --txn-ops} keys, {@code --rw-ratio} reads per write. */
  static RunResult txnMixed(BenchOptions o, Connections c) throws InterruptedException {
    KeySource keys = new KeySource(o);
    ByteString value = KeySource.value(o.valueSizeBytes);
    prefill(o, c, keys);
    double readFraction = o.readWriteRatio / (o.readWriteRatio + 1);
    LoadGenerator.Operation op = new LoadGenerator.Operation() {
      @Override
      public reactor.core.publisher.Mono<?> call(io.vetcd.client.VetcdClient client, long seq) {
        if (kindOf(seq) == 0) {
          return client.kv().txn(TxnRequest.newBuilder().addSuccess(Op.get(keys.keyFor(seq), GetOptions.options())).build());
        }
        return client.kv().txn(putTxn(o, keys, value, seq));
      }

      @Override
      public int kindOf(long seq) {
        return unitInterval(seq) < readFraction ? 0 : 1;
      }
    };
    return measured("txn-mixed", o, c, o.clients, o.total, o.ratePerSecond, o.progress, List.of("read", "write"), op);
  }

  /** A fixed pseudo-random number in [0, 1) for {@code seq} (SplitMix64), so kinds do not depend on timing. */
  static double unitInterval(long seq) {
    long z = seq * 0x9E3779B97F4A7C15L + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return (z >>> 11) * 0x1.0p-53;
  }

  /**
   * Grants {@code --leases} leases (unmeasured), sends {@code --total} keep-alives, each on its own
   * stream like etcd's benchmark (KeepAliveOnce), to the leases in turn, then revokes them.
   */
  static RunResult leaseKeepAlive(BenchOptions o, Connections c) throws InterruptedException {
    int leaseCount = o.leaseCount();
    AtomicLongArray leaseIds = new AtomicLongArray(leaseCount);
    RunResult granted = LoadGenerator.run("grant", c, Math.min(o.clients, leaseCount), leaseCount, 0, false,
        List.of("grant"), (client, seq) -> client.lease().grant(o.leaseTtlSeconds)
            .doOnNext((LeaseGrantResponse r) -> leaseIds.set((int) seq, r.getID())));
    if (granted.failed > 0) throw new IllegalStateException("lease grant failed: " + granted.errorCounts);
    try {
      return measured("lease-keepalive", o, c, o.clients, o.total, o.ratePerSecond, o.progress,
          List.of("keepalive"), (client, seq) -> client.lease().keepAliveOnce(leaseIds.get((int) (seq % leaseCount))));
    } finally {
      LoadGenerator.run("revoke", c, Math.min(o.clients, leaseCount), leaseCount, 0, false, List.of("revoke"),
          (client, seq) -> client.lease().revoke(leaseIds.get((int) seq)));
    }
  }
}
