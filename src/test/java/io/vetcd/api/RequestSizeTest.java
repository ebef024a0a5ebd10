package io.vetcd.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.internal.AuthHeader;
import io.vetcd.pb.internal.InternalRequest;
import org.junit.jupiter.api.Test;

/**
 * The size checked against --max-request-bytes is the size of etcd's raft request, whose header holds a
 * request id derived from the member id. The boundaries were read off etcd 3.4.23 with etcdctl (a put of
 * key "bk"): member ddd67b312462fd7b takes values up to 1572838 bytes, and with the same formula member
 * 1e538232f1a33ff2 takes up to 1572839.
 */
class RequestSizeTest {
  private static InternalRequest put(int valueBytes) {
    return InternalRequest.newBuilder().setPut(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("bk"))
        .setValue(ByteString.copyFrom(new byte[valueBytes]))).build();
  }

  @Test
  void the_largest_put_etcd_takes_is_exactly_the_limit() {
    long limit = 1_572_864;
    int etcdMember = Calls.etcdRequestIdBytes(0xddd67b312462fd7bL);
    assertEquals(10, etcdMember, "low 16 bits from 0x8000: a 64-bit id");
    assertEquals(limit, Calls.etcdRaftRequestBytes(put(1_572_838), etcdMember));
    assertEquals(limit + 1, Calls.etcdRaftRequestBytes(put(1_572_839), etcdMember));
    int otherMember = Calls.etcdRequestIdBytes(0x1e538232f1a33ff2L);
    assertEquals(9, otherMember);
    assertEquals(limit, Calls.etcdRaftRequestBytes(put(1_572_839), otherMember));
    assertEquals(8, Calls.etcdRequestIdBytes(0x10L));
  }

  @Test
  void a_users_name_and_revision_count_once() {
    InternalRequest anonymous = put(100);
    InternalRequest asUser = anonymous.toBuilder()
        .setAuth(AuthHeader.newBuilder().setUsername("root").setRevision(5)).build();
    // etcd's header gains username (1 + 1 + 4 bytes) and auth_revision (1 + 1)
    assertEquals(Calls.etcdRaftRequestBytes(anonymous, 10) + 8, Calls.etcdRaftRequestBytes(asUser, 10));
  }
}
