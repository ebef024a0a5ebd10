package io.vetcd.linearizability;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * A concurrent history of operations on etcd keys, recorded as Jepsen and Porcupine record them:
 * each operation has the time it was invoked and the time it returned, with its result. An operation
 * whose outcome is unknown (a timeout, a lost connection, a member killed while it ran) stays
 * <em>open</em>: it may have taken effect at any moment after its invocation, or never. An operation
 * known not to have happened (refused before it was sent) is removed. Thread-safe.
 */
public final class History {
  /** Return time of an open operation: it may take effect at any point after its call, or never. */
  public static final long OPEN = Long.MAX_VALUE;

  // ------------------------------------------------------------------ inputs

  /** What a client asked. Every operation names the single key it touches. */
  public sealed interface Input permits Put, Get, Cas, CasValue, Delete {
    String key();
  }

  /** Put {@code value} (values are unique per history, so a read names the write it saw). */
  public record Put(String key, String value) implements Input {}

  /** A read of one key. */
  public record Get(String key) implements Input {}

  /**
   * A txn: if {@code mod_revision(key) == expectedModRevision} (0: the key is missing) then put
   * {@code value}, else read the key.
   */
  public record Cas(String key, long expectedModRevision, String value) implements Input {}

  /** A txn: if {@code value(key) == expectedValue} then put {@code value}, else read the key. */
  public record CasValue(String key, String expectedValue, String value) implements Input {}

  /** Delete one key. */
  public record Delete(String key) implements Input {}

  // ------------------------------------------------------------------ outputs

  /** What came back; null for an open operation. */
  public sealed interface Output permits PutOk, GetOk, CasOk, DeleteOk {}

  /** A put answered at {@code revision} (the header revision: the put's mod_revision). */
  public record PutOk(long revision) implements Output {}

  /** A read: the value (null: no such key) and its mod_revision (0 when missing). */
  public record GetOk(String value, long modRevision) implements Output {}

  /**
   * A compare-and-set txn: whether it succeeded and the header revision; when it failed, what its
   * else branch read (value, null when missing, and mod_revision).
   */
  public record CasOk(boolean succeeded, long revision, String value, long modRevision) implements Output {
    public static CasOk success(long revision) {
      return new CasOk(true, revision, null, 0);
    }

    public static CasOk failure(long revision, String value, long modRevision) {
      return new CasOk(false, revision, value, modRevision);
    }
  }

  /** A delete: how many keys it deleted (0 or 1) and the header revision. */
  public record DeleteOk(long deleted, long revision) implements Output {}

  /** One recorded operation; {@code returned == OPEN} and {@code output == null} when open. */
  public record Op(int id, int client, Input input, long called, long returned, Output output) {
    public boolean open() {
      return output == null;
    }

    @Override
    public String toString() {
      return "#" + id + " c" + client + " " + input + " @" + called + ".." + (open() ? "open" : returned + " -> " + output);
    }
  }

  /** An operation in flight: complete it exactly once with one of the three methods. */
  public final class Call {
    private final int id;
    private final int client;
    private final Input input;
    private final long called;
    private boolean done;

    private Call(int id, int client, Input input, long called) {
      this.id = id;
      this.client = client;
      this.input = input;
      this.called = called;
    }

    /** It returned this result. */
    public void ok(Output output) {
      finish(new Op(id, client, input, called, clock.getAsLong(), output));
    }

    /** Its outcome is unknown: it stays open. */
    public void unknown() {
      finish(new Op(id, client, input, called, OPEN, null));
    }

    /** It certainly did not take effect (e.g. a read that failed, or a write refused before sending). */
    public void failed() {
      finish(null);
    }

    private void finish(Op op) {
      synchronized (History.this) {
        if (done) {
          throw new IllegalStateException("operation completed twice: " + input);
        }
        done = true;
        inFlight.remove(this);
        if (op != null) {
          ops.add(op);
        }
      }
    }
  }

  private final LongSupplier clock;
  private final AtomicInteger nextId = new AtomicInteger();
  private final List<Op> ops = new ArrayList<>();
  private final List<Call> inFlight = new ArrayList<>();

  public History() {
    this(System::nanoTime);
  }

  /** With a given clock (tests); times need only be monotonic. */
  public History(LongSupplier clock) {
    this.clock = clock;
  }

  /** Records the invocation of {@code input} by {@code client}; complete the call when it returns. */
  public Call invoke(int client, Input input) {
    Call call = new Call(nextId.getAndIncrement(), client, input, clock.getAsLong());
    synchronized (this) {
      inFlight.add(call);
    }
    return call;
  }

  /** Adds a finished operation directly (hand-made histories in tests). */
  public synchronized History add(int client, Input input, long called, long returned, Output output) {
    ops.add(new Op(nextId.getAndIncrement(), client, input, called, output == null ? OPEN : returned, output));
    return this;
  }

  /** The recorded operations; calls still in flight count as open. */
  public synchronized List<Op> operations() {
    List<Op> all = new ArrayList<>(ops);
    for (Call c : inFlight) {
      all.add(new Op(c.id, c.client, c.input, c.called, OPEN, null));
    }
    return all;
  }
}
