package io.vetcd.auth;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import io.vetcd.pb.Permission;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class RangePermissionsTest {
  static Permission perm(Permission.Type type, String key, String end) {
    return Permission.newBuilder().setPermType(type).setKey(ByteString.copyFromUtf8(key))
        .setRangeEnd(ByteString.copyFromUtf8(end)).build();
  }

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static final byte[] NONE = new byte[0];
  static final byte[] ZERO = {0};

  @Test
  void a_single_key_grant_covers_that_key_only() {
    RangePermissions p = RangePermissions.of(List.of(perm(Permission.Type.READ, "bar", "")));
    assertTrue(p.canRead(b("bar"), NONE));
    assertFalse(p.canRead(b("bar0"), NONE));
    assertFalse(p.canRead(b("ba"), NONE));
    assertFalse(p.canRead(b("bar"), b("bas")), "a range beyond the single key is not covered");
    assertTrue(p.canRead(b("bar"), b("bar\0")), "[bar, bar\\0) is exactly the key");
    assertFalse(p.canWrite(b("bar"), NONE), "READ does not grant WRITE");
  }

  @Test
  void a_prefix_grant_covers_keys_and_sub_ranges_under_the_prefix() {
    RangePermissions p = RangePermissions.of(List.of(perm(Permission.Type.READWRITE, "foo/", "foo0")));
    assertTrue(p.canRead(b("foo/a"), NONE));
    assertTrue(p.canWrite(b("foo/"), NONE));
    assertTrue(p.canRead(b("foo/"), b("foo0")));
    assertTrue(p.canRead(b("foo/a"), b("foo/b")));
    assertFalse(p.canRead(b("foo"), NONE));
    assertFalse(p.canRead(b("foo0"), NONE), "the range end is exclusive");
    assertFalse(p.canRead(b("foo/"), b("foo1")), "a range reaching past the grant is denied");
    assertFalse(p.canRead(b("foo/"), ZERO), "from-key reaches past the grant");
  }

  @Test
  void adjacent_and_overlapping_grants_merge_so_a_range_across_them_is_covered() {
    RangePermissions p = RangePermissions.of(List.of(
        perm(Permission.Type.READ, "c", "e"), perm(Permission.Type.READ, "a", "c"), perm(Permission.Type.READWRITE, "d", "g")));
    assertTrue(p.canRead(b("a"), b("g")));
    assertTrue(p.canRead(b("b"), b("f")));
    assertFalse(p.canRead(b("a"), b("h")));
    assertTrue(p.canWrite(b("d"), b("g")));
    assertFalse(p.canWrite(b("c"), b("e")), "only [d, g) is writable");
  }

  @Test
  void a_gap_between_grants_denies_a_range_across_it() {
    RangePermissions p = RangePermissions.of(List.of(perm(Permission.Type.READ, "a", "b"), perm(Permission.Type.READ, "c", "d")));
    assertTrue(p.canRead(b("a"), b("b")));
    assertTrue(p.canRead(b("c"), NONE));
    assertFalse(p.canRead(b("a"), b("d")));
    assertFalse(p.canRead(b("b"), NONE));
  }

  @Test
  void a_from_key_grant_covers_everything_after_its_key() {
    RangePermissions p = RangePermissions.of(List.of(perm(Permission.Type.WRITE, "m", "\0")));
    assertTrue(p.canWrite(b("m"), NONE));
    assertTrue(p.canWrite(b("zzzz"), ZERO));
    assertTrue(p.canWrite(b("n"), b("z")));
    assertFalse(p.canWrite(b("l"), ZERO));
    assertFalse(p.canRead(b("m"), NONE));
  }

  @Test
  void the_whole_keyspace_grant_covers_get_prefix_of_the_empty_key() {
    // etcdctl role grant-permission r --prefix read ""  →  key "", range end "\0"
    RangePermissions p = RangePermissions.of(List.of(perm(Permission.Type.READ, "", "\0")));
    // etcdctl get "" --prefix  →  key "\0", range end "\0"
    assertTrue(p.canRead(ZERO, ZERO));
    assertTrue(p.canRead(b("anything"), NONE));
  }

  @Test
  void keys_compare_as_unsigned_bytes() {
    RangePermissions p = RangePermissions.of(List.of(perm(Permission.Type.READ, "a", "b")));
    assertFalse(p.canRead(new byte[] {'a', (byte) 0xff}, new byte[] {'b', 1}));
    assertTrue(p.canRead(new byte[] {'a', (byte) 0xff}, NONE));
  }

  @Test
  void no_permissions_deny_everything() {
    RangePermissions p = RangePermissions.of(List.of());
    assertFalse(p.canRead(b("a"), NONE));
    assertFalse(p.canWrite(b("a"), ZERO));
  }
}
