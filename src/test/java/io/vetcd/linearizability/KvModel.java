package io.vetcd.linearizability;

import io.vetcd.linearizability.History.Cas;
import io.vetcd.linearizability.History.CasOk;
import io.vetcd.linearizability.History.CasValue;
import io.vetcd.linearizability.History.Delete;
import io.vetcd.linearizability.History.DeleteOk;
import io.vetcd.linearizability.History.Get;
import io.vetcd.linearizability.History.GetOk;
import io.vetcd.linearizability.History.Input;
import io.vetcd.linearizability.History.Output;
import io.vetcd.linearizability.History.Put;
import io.vetcd.linearizability.History.PutOk;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * The sequential specification of one etcd key: its value and its mod_revision.
 *
 * <p>Revisions are global in etcd (every write to any key bumps them), so a model of one key cannot
 * predict the revision of a put; it only knows that it is greater than the key's previous
 * mod_revision. After a write whose outcome is unknown the key's mod_revision is known only from
 * below ({@code exact == false}); the next read that sees that value pins it.
 *
 * <p>The model is non-deterministic (an open compare-and-set may or may not have succeeded): a step
 * maps a set of possible states to the set of states consistent with the output (empty: the output
 * is impossible here), as Porcupine does with a power-set model.
 */
public final class KvModel {
  private KvModel() {}

  /**
   * One possible state of a key: its value (null: missing) and mod_revision (0 when missing); if not
   * {@code exact}, the mod_revision is only known to be greater than {@code modRevision}.
   */
  public record State(String value, long modRevision, boolean exact) {
    static final State MISSING = new State(null, 0, true);

    /** Whether a read answering (value, modRevision) is possible in this state. */
    boolean reads(String v, long rev) {
      return Objects.equals(value, v) && (exact ? rev == modRevision : rev > modRevision);
    }

    /** Whether the key's mod_revision may equal {@code rev}. */
    boolean mayHaveRevision(long rev) {
      return exact ? rev == modRevision : rev > modRevision;
    }

    /** Whether the key's mod_revision may differ from {@code rev}. */
    boolean mayNotHaveRevision(long rev) {
      return !exact || rev != modRevision;
    }

    @Override
    public String toString() {
      return value == null ? "missing" : value + "@" + (exact ? "" : ">") + modRevision;
    }
  }

  public static Set<State> initial() {
    return Set.of(State.MISSING);
  }

  /** The states reachable from {@code states} by {@code input} answering {@code output} (null: open). */
  public static Set<State> step(Set<State> states, Input input, Output output) {
    Set<State> next = new HashSet<>();
    for (State s : states) {
      step(s, input, output, next);
    }
    return next;
  }

  private static void step(State s, Input input, Output output, Set<State> next) {
    if (input instanceof Put p) {
      if (output == null) {
        next.add(new State(p.value(), s.modRevision(), false));
      } else if (((PutOk) output).revision() > s.modRevision()) {
        next.add(new State(p.value(), ((PutOk) output).revision(), true));
      }
    } else if (input instanceof Get) {
      GetOk r = (GetOk) output;
      if (r != null && s.reads(r.value(), r.modRevision())) {
        next.add(new State(r.value(), r.modRevision(), true));
      }
    } else if (input instanceof Cas c) {
      boolean mayMatch = c.expectedModRevision() == 0 ? s.value() == null
          : s.value() != null && s.mayHaveRevision(c.expectedModRevision());
      boolean mayNotMatch = c.expectedModRevision() == 0 ? s.value() != null
          : s.value() == null || s.mayNotHaveRevision(c.expectedModRevision());
      CasOk out = (CasOk) output;
      if (out != null && !out.succeeded() && out.modRevision() == c.expectedModRevision()) {
        return; // the else branch read the very revision the compare asked for: it would have matched
      }
      casStep(s, c.value(), mayMatch, mayNotMatch, Math.max(c.expectedModRevision(), s.modRevision()), out, next);
    } else if (input instanceof CasValue c) {
      boolean match = c.expectedValue() != null && c.expectedValue().equals(s.value());
      casStep(s, c.value(), match, !match, s.modRevision(), (CasOk) output, next);
    } else if (input instanceof Delete) {
      if (output == null) {
        next.add(State.MISSING);
      } else {
        DeleteOk d = (DeleteOk) output;
        // a delete that deleted made a new revision, above the key's mod_revision
        if ((d.deleted() == 1 && s.value() != null && d.revision() > s.modRevision())
            || (d.deleted() == 0 && s.value() == null)) {
          next.add(State.MISSING);
        }
      }
    }
  }

  /**
   * A compare-and-set from {@code s}: {@code mayMatch}/{@code mayNotMatch} say whether its compare may
   * hold or fail here; a success puts {@code value} at a revision above {@code revisionBelow}.
   */
  private static void casStep(State s, String value, boolean mayMatch, boolean mayNotMatch, long revisionBelow,
      CasOk out, Set<State> next) {
    if (out == null) {
      if (mayMatch) {
        next.add(new State(value, revisionBelow, false));
      }
      if (mayNotMatch) {
        next.add(s);
      }
    } else if (out.succeeded()) {
      if (mayMatch && out.revision() > revisionBelow) {
        next.add(new State(value, out.revision(), true));
      }
    } else if (mayNotMatch && s.reads(out.value(), out.modRevision())) {
      next.add(new State(out.value(), out.modRevision(), true));
    }
  }
}
