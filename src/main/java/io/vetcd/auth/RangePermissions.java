package io.vetcd.auth;

import io.vetcd.pb.Permission;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The key ranges one user may read or write, merged over all its roles: sorted, disjoint half-open
 * intervals {@code [start, end)} ({@code end == null} means unbounded). A permission with an empty
 * range end grants one key; a range end of {@code "\0"} grants every key from its key on; any other
 * range end grants {@code [key, range_end)}. A request over a range is permitted only when the
 * union of the granted intervals covers the whole range, as etcd's interval tree decides.
 */
public final class RangePermissions {
  private static final byte[] ZERO = {0};

  /** A half-open interval; {@code end == null} is unbounded. */
  private record Interval(byte[] start, byte[] end) {}

  private final List<Interval> read;
  private final List<Interval> write;

  private RangePermissions(List<Interval> read, List<Interval> write) {
    this.read = read;
    this.write = write;
  }

  public static RangePermissions of(Iterable<Permission> permissions) {
    List<Interval> read = new ArrayList<>();
    List<Interval> write = new ArrayList<>();
    for (Permission p : permissions) {
      Interval ivl = interval(p.getKey().toByteArray(), p.getRangeEnd().toByteArray());
      if (ivl == null) {
        continue;
      }
      if (p.getPermType() == Permission.Type.READ || p.getPermType() == Permission.Type.READWRITE) {
        read.add(ivl);
      }
      if (p.getPermType() == Permission.Type.WRITE || p.getPermType() == Permission.Type.READWRITE) {
        write.add(ivl);
      }
    }
    return new RangePermissions(merge(read), merge(write));
  }

  public boolean canRead(byte[] key, byte[] rangeEnd) {
    return covered(read, key, rangeEnd);
  }

  public boolean canWrite(byte[] key, byte[] rangeEnd) {
    return covered(write, key, rangeEnd);
  }

  public boolean permits(Permission.Type type, byte[] key, byte[] rangeEnd) {
    return switch (type) {
      case READ -> canRead(key, rangeEnd);
      case WRITE -> canWrite(key, rangeEnd);
      default -> canRead(key, rangeEnd) && canWrite(key, rangeEnd);
    };
  }

  /** The interval of a key and range end; null if empty (range end at or before the key). */
  private static Interval interval(byte[] key, byte[] rangeEnd) {
    if (rangeEnd == null || rangeEnd.length == 0) {
      return new Interval(key, successor(key));
    }
    if (Arrays.equals(rangeEnd, ZERO)) {
      return new Interval(key, null);
    }
    if (Arrays.compareUnsigned(rangeEnd, key) <= 0) {
      return null;
    }
    return new Interval(key, rangeEnd);
  }

  /** The smallest key after {@code key}: {@code key + "\0"}. */
  private static byte[] successor(byte[] key) {
    return Arrays.copyOf(key, key.length + 1);
  }

  private static List<Interval> merge(List<Interval> intervals) {
    intervals.sort(Comparator.comparing(Interval::start, Arrays::compareUnsigned));
    List<Interval> merged = new ArrayList<>();
    for (Interval next : intervals) {
      if (!merged.isEmpty()) {
        Interval last = merged.get(merged.size() - 1);
        if (last.end == null || Arrays.compareUnsigned(next.start, last.end) <= 0) {
          byte[] end = last.end == null || next.end == null ? null
              : (Arrays.compareUnsigned(next.end, last.end) > 0 ? next.end : last.end);
          merged.set(merged.size() - 1, new Interval(last.start, end));
          continue;
        }
      }
      merged.add(next);
    }
    return List.copyOf(merged);
  }

  private static boolean covered(List<Interval> granted, byte[] key, byte[] rangeEnd) {
    Interval wanted = interval(key, rangeEnd);
    if (wanted == null) {
      wanted = interval(key, null); // an empty range touches no key; etcd checks the key itself
    }
    for (Interval ivl : granted) {
      if (Arrays.compareUnsigned(ivl.start, wanted.start) > 0) {
        return false; // sorted: no later interval starts at or before the wanted start
      }
      if (ivl.end == null) {
        return true;
      }
      if (Arrays.compareUnsigned(wanted.start, ivl.end) < 0) {
        // merged intervals are disjoint and not adjacent: this one alone must cover the range
        return wanted.end != null && Arrays.compareUnsigned(wanted.end, ivl.end) <= 0;
      }
    }
    return false;
  }
}
