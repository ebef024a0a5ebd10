package io.vetcd.mvcc;

import com.google.protobuf.ByteString;
import io.vetcd.errors.Errors;
import io.vetcd.pb.Compare;
import io.vetcd.pb.DeleteRangeRequest;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.RangeRequest;
import io.vetcd.pb.RequestOp;
import io.vetcd.pb.TxnRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Pure request checks done before a request is proposed (etcd's gRPC frontend validation). */
public final class RequestValidator {
  public static final int DEFAULT_MAX_TXN_OPS = 128;

  private RequestValidator() {}

  public static void checkRange(RangeRequest r) {
    if (r.getKey().isEmpty()) {
      throw Errors.EMPTY_KEY;
    }
  }

  public static void checkPut(PutRequest p) {
    if (p.getKey().isEmpty()) {
      throw Errors.EMPTY_KEY;
    }
    if (p.getIgnoreValue() && !p.getValue().isEmpty()) {
      throw Errors.VALUE_PROVIDED;
    }
    if (p.getIgnoreLease() && p.getLease() != 0) {
      throw Errors.LEASE_PROVIDED;
    }
  }

  public static void checkDeleteRange(DeleteRangeRequest d) {
    if (d.getKey().isEmpty()) {
      throw Errors.EMPTY_KEY;
    }
  }

  /** Op counts and op fields (recursively), then put/delete overlaps in each branch. */
  public static void checkTxn(TxnRequest t, int maxTxnOps) {
    checkTxnOps(t, maxTxnOps);
    checkOverlaps(t.getSuccessList());
    checkOverlaps(t.getFailureList());
  }

  private static void checkTxnOps(TxnRequest t, int maxTxnOps) {
    int opc = Math.max(t.getCompareCount(), Math.max(t.getSuccessCount(), t.getFailureCount()));
    if (opc > maxTxnOps) {
      throw Errors.TOO_MANY_OPS;
    }
    for (Compare c : t.getCompareList()) {
      if (c.getKey().isEmpty()) {
        throw Errors.EMPTY_KEY;
      }
    }
    // a nested txn gets the budget left after its parent's own ops, as etcd counts it
    for (RequestOp op : t.getSuccessList()) {
      checkOp(op, maxTxnOps - opc);
    }
    for (RequestOp op : t.getFailureList()) {
      checkOp(op, maxTxnOps - opc);
    }
  }

  private static void checkOp(RequestOp op, int maxTxnOps) {
    switch (op.getRequestCase()) {
      case REQUEST_RANGE -> checkRange(op.getRequestRange());
      case REQUEST_PUT -> checkPut(op.getRequestPut());
      case REQUEST_DELETE_RANGE -> checkDeleteRange(op.getRequestDeleteRange());
      case REQUEST_TXN -> checkTxnOps(op.getRequestTxn(), maxTxnOps);
      default -> throw Errors.KEY_NOT_FOUND; // an empty op, as etcd answers it
    }
  }

  /**
   * A deleted span [begin, end); an empty end is unbounded. A delete with range_end "\0" is kept as the
   * (empty) span [key, "\0"), so, exactly as in etcd, it never conflicts with a put.
   */
  private record Span(ByteString begin, ByteString end) {
    boolean contains(ByteString k) {
      return KeyOrder.INSTANCE.compare(begin, k) <= 0
          && (end.isEmpty() || KeyOrder.INSTANCE.compare(k, end) < 0);
    }

    /** etcd merges a nested txn's deletes by intersecting them with ["\0", +inf). */
    boolean reachesAboveZero() {
      return end.isEmpty() || KeyOrder.INSTANCE.compare(ByteString.copyFrom(new byte[] {0}), end) < 0;
    }
  }

  private record Writes(Set<ByteString> puts, List<Span> dels) {
    boolean deleted(ByteString k) {
      for (Span s : dels) {
        if (s.contains(k)) {
          return true;
        }
      }
      return false;
    }
  }

  private static Writes checkOverlaps(List<RequestOp> ops) {
    List<Span> dels = new ArrayList<>();
    for (RequestOp op : ops) {
      if (!op.hasRequestDeleteRange()) {
        continue;
      }
      DeleteRangeRequest d = op.getRequestDeleteRange();
      ByteString end = d.getRangeEnd().isEmpty() ? d.getKey().concat(ByteString.copyFrom(new byte[] {0})) : d.getRangeEnd();
      dels.add(new Span(d.getKey(), end));
    }
    Writes w = new Writes(new HashSet<>(), dels);
    for (RequestOp op : ops) {
      if (!op.hasRequestTxn()) {
        continue;
      }
      Writes then = checkOverlaps(op.getRequestTxn().getSuccessList());
      Writes otherwise = checkOverlaps(op.getRequestTxn().getFailureList());
      for (ByteString k : then.puts()) {
        if (w.puts().contains(k) || w.deleted(k)) {
          throw Errors.DUPLICATE_KEY;
        }
        w.puts().add(k);
      }
      for (ByteString k : otherwise.puts()) {
        if (w.puts().contains(k) && !then.puts().contains(k)) {
          throw Errors.DUPLICATE_KEY;
        }
        if (w.deleted(k)) {
          throw Errors.DUPLICATE_KEY;
        }
        w.puts().add(k);
      }
      for (Span s : then.dels()) {
        if (s.reachesAboveZero()) {
          dels.add(s);
        }
      }
      for (Span s : otherwise.dels()) {
        if (s.reachesAboveZero()) {
          dels.add(s);
        }
      }
    }
    for (RequestOp op : ops) {
      if (!op.hasRequestPut()) {
        continue;
      }
      ByteString k = op.getRequestPut().getKey();
      if (w.puts().contains(k) || w.deleted(k)) {
        throw Errors.DUPLICATE_KEY;
      }
      w.puts().add(k);
    }
    return w;
  }

  /**
   * etcd's read-only txn: only ranges in both branches (a nested txn makes it a write). etcd serves
   * it as a read, without a raft entry.
   */
  public static boolean isReadOnlyTxn(TxnRequest t) {
    return everyOp(t, RequestOp::hasRequestRange);
  }

  /** A read-only txn whose ranges are all serializable is served from the local store, as etcd does. */
  public static boolean isSerializableTxn(TxnRequest t) {
    return everyOp(t, op -> op.getRequestRange().getSerializable());
  }

  private static boolean everyOp(TxnRequest t, java.util.function.Predicate<RequestOp> test) {
    return t.getSuccessList().stream().allMatch(test) && t.getFailureList().stream().allMatch(test);
  }
}
