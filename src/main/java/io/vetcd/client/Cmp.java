package io.vetcd.client;

import com.google.protobuf.ByteString;
import io.vetcd.pb.Compare;
import io.vetcd.pb.Compare.CompareResult;
import io.vetcd.pb.Compare.CompareTarget;

/**
 * Txn comparisons: {@code Cmp.version("k").eq(0)}, {@code Cmp.value("k").eq("v")},
 * {@code Cmp.createRevision("k").eq(0)}, {@code Cmp.modRevision("k").lt(10)}, {@code Cmp.lease("k").eq(id)}.
 */
public final class Cmp {
  private final ByteString key;
  private final CompareTarget target;
  private ByteString rangeEnd;

  private Cmp(ByteString key, CompareTarget target) {
    this.key = key;
    this.target = target;
  }

  public static Cmp version(String key) {
    return new Cmp(Keys.bs(key), CompareTarget.VERSION);
  }

  public static Cmp createRevision(String key) {
    return createRevision(Keys.bs(key));
  }

  public static Cmp createRevision(ByteString key) {
    return new Cmp(key, CompareTarget.CREATE);
  }

  public static Cmp modRevision(String key) {
    return modRevision(Keys.bs(key));
  }

  public static Cmp modRevision(ByteString key) {
    return new Cmp(key, CompareTarget.MOD);
  }

  public static Cmp value(String key) {
    return new Cmp(Keys.bs(key), CompareTarget.VALUE);
  }

  public static Cmp value(ByteString key) {
    return new Cmp(key, CompareTarget.VALUE);
  }

  public static Cmp lease(String key) {
    return new Cmp(Keys.bs(key), CompareTarget.LEASE);
  }

  public static Cmp version(ByteString key) {
    return new Cmp(key, CompareTarget.VERSION);
  }

  /** Compare every key with this key as prefix. */
  public Cmp prefix() {
    this.rangeEnd = Keys.prefixEnd(key);
    return this;
  }

  public Compare eq(long v) {
    return build(CompareResult.EQUAL, v, null);
  }

  public Compare ne(long v) {
    return build(CompareResult.NOT_EQUAL, v, null);
  }

  public Compare gt(long v) {
    return build(CompareResult.GREATER, v, null);
  }

  public Compare lt(long v) {
    return build(CompareResult.LESS, v, null);
  }

  public Compare eq(String v) {
    return build(CompareResult.EQUAL, 0, Keys.bs(v));
  }

  public Compare ne(String v) {
    return build(CompareResult.NOT_EQUAL, 0, Keys.bs(v));
  }

  public Compare gt(String v) {
    return build(CompareResult.GREATER, 0, Keys.bs(v));
  }

  public Compare lt(String v) {
    return build(CompareResult.LESS, 0, Keys.bs(v));
  }

  private Compare build(CompareResult result, long n, ByteString value) {
    Compare.Builder b = Compare.newBuilder().setKey(key).setTarget(target).setResult(result);
    if (rangeEnd != null) b.setRangeEnd(rangeEnd);
    switch (target) {
      case VERSION -> b.setVersion(n);
      case CREATE -> b.setCreateRevision(n);
      case MOD -> b.setModRevision(n);
      case LEASE -> b.setLease(n);
      case VALUE -> {
        if (value == null) throw new IllegalArgumentException("a value compare needs a value");
        b.setValue(value);
      }
      default -> throw new IllegalArgumentException(String.valueOf(target));
    }
    if (target != CompareTarget.VALUE && value != null) {
      throw new IllegalArgumentException(target + " compares numbers, not values");
    }
    return b.build();
  }
}
