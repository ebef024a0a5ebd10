package io.vetcd.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.PutResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseGrantResponse;
import io.etcd.jetcd.lease.LeaseTimeToLiveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** jetcd 0.8.6 against one in-process member: what a Java etcd user does every day. */
class JetcdClientTest {
  static InProcessMember member;
  static Client client;

  @BeforeAll
  static void start() throws Exception {
    member = new InProcessMember();
    client = Client.builder().endpoints(member.endpoint()).build();
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    member.close();
  }

  static ByteSequence b(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  static String s(ByteSequence b) {
    return b.toString(UTF_8);
  }

  @Test
  void put_then_get_returns_value_with_revisions_and_version() throws Exception {
    PutResponse first = client.getKVClient().put(b("jetcd/a"), b("1")).get(10, TimeUnit.SECONDS);
    client.getKVClient().put(b("jetcd/a"), b("2")).get(10, TimeUnit.SECONDS);
    GetResponse get = client.getKVClient().get(b("jetcd/a")).get(10, TimeUnit.SECONDS);
    KeyValue kv = get.getKvs().get(0);
    assertEquals("2", s(kv.getValue()));
    assertEquals(2, kv.getVersion());
    assertEquals(first.getHeader().getRevision(), kv.getCreateRevision());
    assertEquals(first.getHeader().getRevision() + 1, kv.getModRevision());
    assertEquals(kv.getModRevision(), get.getHeader().getRevision());

    GetResponse old = client.getKVClient().get(b("jetcd/a"),
        GetOption.builder().withRevision(first.getHeader().getRevision()).build()).get(10, TimeUnit.SECONDS);
    assertEquals("1", s(old.getKvs().get(0).getValue()));
  }

  @Test
  void prefix_get_delete_with_prev_kv() throws Exception {
    for (String k : List.of("p/x", "p/y", "p/z")) {
      client.getKVClient().put(b(k), b(k)).get(10, TimeUnit.SECONDS);
    }
    GetResponse get = client.getKVClient().get(b("p/"), GetOption.builder().isPrefix(true).withLimit(2).build())
        .get(10, TimeUnit.SECONDS);
    assertEquals(2, get.getKvs().size());
    assertTrue(get.isMore());
    assertEquals(3, get.getCount());
    var deleted = client.getKVClient().delete(b("p/"), DeleteOption.builder().isPrefix(true).withPrevKV(true).build())
        .get(10, TimeUnit.SECONDS);
    assertEquals(3, deleted.getDeleted());
    assertEquals(3, deleted.getPrevKvs().size());
    assertEquals(0, client.getKVClient().get(b("p/"), GetOption.builder().isPrefix(true).build())
        .get(10, TimeUnit.SECONDS).getCount());
  }

  @Test
  void txn_compare_and_swap() throws Exception {
    client.getKVClient().put(b("txn/k"), b("v1")).get(10, TimeUnit.SECONDS);
    TxnResponse swapped = client.getKVClient().txn().If(new Cmp(b("txn/k"), Cmp.Op.EQUAL, CmpTarget.value(b("v1"))))
        .Then(Op.put(b("txn/k"), b("v2"), PutOption.DEFAULT)).Else(Op.get(b("txn/k"), GetOption.DEFAULT))
        .commit().get(10, TimeUnit.SECONDS);
    assertTrue(swapped.isSucceeded());
    TxnResponse failed = client.getKVClient().txn().If(new Cmp(b("txn/k"), Cmp.Op.EQUAL, CmpTarget.value(b("v1"))))
        .Then(Op.put(b("txn/k"), b("v3"), PutOption.DEFAULT)).Else(Op.get(b("txn/k"), GetOption.DEFAULT))
        .commit().get(10, TimeUnit.SECONDS);
    assertFalse(failed.isSucceeded());
    assertEquals("v2", s(failed.getGetResponses().get(0).getKvs().get(0).getValue()));
  }

  @Test
  void compacted_revision_read_fails_with_etcd_error() throws Exception {
    PutResponse put = client.getKVClient().put(b("c/k"), b("1")).get(10, TimeUnit.SECONDS);
    client.getKVClient().put(b("c/k"), b("2")).get(10, TimeUnit.SECONDS);
    PutResponse last = client.getKVClient().put(b("c/k"), b("3")).get(10, TimeUnit.SECONDS);
    client.getKVClient().compact(last.getHeader().getRevision() - 1).get(10, TimeUnit.SECONDS);
    ExecutionException e = assertThrows(ExecutionException.class, () -> client.getKVClient()
        .get(b("c/k"), GetOption.builder().withRevision(put.getHeader().getRevision()).build()).get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("required revision has been compacted"), e.getCause().getMessage());
  }

  @Test
  void lease_grant_attach_timetolive_revoke_deletes_keys() throws Exception {
    LeaseGrantResponse grant = client.getLeaseClient().grant(60).get(10, TimeUnit.SECONDS);
    assertEquals(60, grant.getTTL());
    client.getKVClient().put(b("lease/k"), b("v"), PutOption.builder().withLeaseId(grant.getID()).build())
        .get(10, TimeUnit.SECONDS);
    LeaseTimeToLiveResponse ttl = client.getLeaseClient().timeToLive(grant.getID(), LeaseOption.builder().withAttachedKeys().build())
        .get(10, TimeUnit.SECONDS);
    assertEquals(60, ttl.getGrantedTTL());
    assertTrue(ttl.getTTL() > 0 && ttl.getTTL() <= 60);
    assertEquals(List.of("lease/k"), ttl.getKeys().stream().map(JetcdClientTest::s).toList());
    client.getLeaseClient().revoke(grant.getID()).get(10, TimeUnit.SECONDS);
    assertEquals(0, client.getKVClient().get(b("lease/k")).get(10, TimeUnit.SECONDS).getCount());
    assertEquals(-1, client.getLeaseClient().timeToLive(grant.getID(), LeaseOption.DEFAULT).get(10, TimeUnit.SECONDS).getTTL());
  }

  @Test
  void put_with_missing_lease_is_rejected() {
    ExecutionException e = assertThrows(ExecutionException.class, () -> client.getKVClient()
        .put(b("nolease"), b("v"), PutOption.builder().withLeaseId(0x1234567).build()).get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("requested lease not found"), e.getCause().getMessage());
  }

  @Test
  void lease_expiry_deletes_key_and_watch_sees_put_and_delete() throws Exception {
    BlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
    try (var watcher = client.getWatchClient().watch(b("expiring"), r -> events.addAll(r.getEvents()))) {
      LeaseGrantResponse grant = client.getLeaseClient().grant(2).get(10, TimeUnit.SECONDS);
      client.getKVClient().put(b("expiring"), b("soon"), PutOption.builder().withLeaseId(grant.getID()).build())
          .get(10, TimeUnit.SECONDS);
      WatchEvent put = events.poll(10, TimeUnit.SECONDS);
      assertNotNull(put);
      assertEquals(WatchEvent.EventType.PUT, put.getEventType());
      WatchEvent delete = events.poll(30, TimeUnit.SECONDS);
      assertNotNull(delete, "the lease expiry must delete the key");
      assertEquals(WatchEvent.EventType.DELETE, delete.getEventType());
      assertEquals("expiring", s(delete.getKeyValue().getKey()));
    }
  }

  @Test
  void watch_replays_history_from_start_revision_with_prev_kv() throws Exception {
    PutResponse first = client.getKVClient().put(b("hist/k"), b("1")).get(10, TimeUnit.SECONDS);
    client.getKVClient().put(b("hist/k"), b("2")).get(10, TimeUnit.SECONDS);
    client.getKVClient().delete(b("hist/k")).get(10, TimeUnit.SECONDS);
    BlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
    try (var watcher = client.getWatchClient().watch(b("hist/"),
        WatchOption.builder().isPrefix(true).withRevision(first.getHeader().getRevision()).withPrevKV(true).build(),
        r -> events.addAll(r.getEvents()))) {
      WatchEvent e1 = events.poll(10, TimeUnit.SECONDS);
      WatchEvent e2 = events.poll(10, TimeUnit.SECONDS);
      WatchEvent e3 = events.poll(10, TimeUnit.SECONDS);
      assertNotNull(e3);
      assertEquals("1", s(e1.getKeyValue().getValue()));
      assertEquals("2", s(e2.getKeyValue().getValue()));
      assertEquals("1", s(e2.getPrevKV().getValue()));
      assertEquals(WatchEvent.EventType.DELETE, e3.getEventType());
      assertEquals("2", s(e3.getPrevKV().getValue()));
    }
  }

  @Test
  void status_and_member_list_describe_the_member() throws Exception {
    var members = client.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers();
    assertEquals(1, members.size());
    assertEquals("it", members.get(0).getName());
    var status = client.getMaintenanceClient().statusMember(member.endpoint()).get(10, TimeUnit.SECONDS);
    assertEquals(members.get(0).getId(), status.getLeader());
    assertTrue(status.getRaftIndex() > 0);
  }

  @Test
  void oversized_requests_are_refused_and_the_member_keeps_serving() throws Exception {
    ByteSequence tooLarge = ByteSequence.from(new byte[1_600_000]);
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> client.getKVClient().put(b("big"), tooLarge).get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("etcdserver: request is too large"), e.getCause().getMessage());
    ByteSequence wayTooLarge = ByteSequence.from(new byte[3_000_000]);
    assertThrows(ExecutionException.class, () -> client.getKVClient().put(b("big"), wayTooLarge).get(10, TimeUnit.SECONDS));
    assertEquals(0, client.getKVClient().get(b("big")).get(10, TimeUnit.SECONDS).getCount());
    client.getKVClient().put(b("after-big"), b("ok")).get(10, TimeUnit.SECONDS);
  }

  @Test
  void txn_with_duplicate_keys_or_too_many_ops_is_refused() {
    ExecutionException dup = assertThrows(ExecutionException.class, () -> client.getKVClient().txn()
        .Then(Op.put(b("d"), b("1"), PutOption.DEFAULT), Op.put(b("d"), b("2"), PutOption.DEFAULT))
        .commit().get(10, TimeUnit.SECONDS));
    assertTrue(dup.getCause().getMessage().contains("etcdserver: duplicate key given in txn request"));
    Op[] ops = new Op[129];
    for (int i = 0; i < ops.length; i++) {
      ops[i] = Op.put(b("many/" + i), b("v"), PutOption.DEFAULT);
    }
    ExecutionException many = assertThrows(ExecutionException.class,
        () -> client.getKVClient().txn().Then(ops).commit().get(10, TimeUnit.SECONDS));
    assertTrue(many.getCause().getMessage().contains("etcdserver: too many operations in txn request"));
  }

  @Test
  void watch_filters_and_progress_request() throws Exception {
    BlockingQueue<io.etcd.jetcd.watch.WatchResponse> responses = new LinkedBlockingQueue<>();
    try (var onlyDeletes = client.getWatchClient().watch(b("filt"),
        WatchOption.builder().withNoPut(true).build(), responses::add)) {
      client.getKVClient().put(b("filt"), b("1")).get(10, TimeUnit.SECONDS);
      long deleteRev = client.getKVClient().delete(b("filt")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
      io.etcd.jetcd.watch.WatchResponse first = responses.poll(10, TimeUnit.SECONDS);
      assertNotNull(first);
      assertEquals(1, first.getEvents().size());
      assertEquals(WatchEvent.EventType.DELETE, first.getEvents().get(0).getEventType(), "NOPUT hides the put");
      assertEquals(deleteRev, first.getEvents().get(0).getKeyValue().getModRevision());
      client.getWatchClient().requestProgress();
      io.etcd.jetcd.watch.WatchResponse progress = responses.poll(10, TimeUnit.SECONDS);
      assertNotNull(progress, "a progress request is answered");
      assertTrue(progress.getEvents().isEmpty());
      assertTrue(progress.getHeader().getRevision() >= deleteRev);
    }
  }

  @Test
  void keep_alive_stream_renews_the_lease() throws Exception {
    long id = client.getLeaseClient().grant(3).get(10, TimeUnit.SECONDS).getID();
    BlockingQueue<io.etcd.jetcd.lease.LeaseKeepAliveResponse> renewals = new LinkedBlockingQueue<>();
    try (var keepAlive = client.getLeaseClient().keepAlive(id, new io.grpc.stub.StreamObserver<>() {
      @Override
      public void onNext(io.etcd.jetcd.lease.LeaseKeepAliveResponse r) {
        renewals.add(r);
      }

      @Override
      public void onError(Throwable t) {
      }

      @Override
      public void onCompleted() {
      }
    })) {
      io.etcd.jetcd.lease.LeaseKeepAliveResponse first = renewals.poll(10, TimeUnit.SECONDS);
      assertNotNull(first);
      assertEquals(id, first.getID());
      assertEquals(3, first.getTTL());
      // Kept alive past its TTL: the lease is still there.
      assertNotNull(renewals.poll(10, TimeUnit.SECONDS));
      assertNotNull(renewals.poll(10, TimeUnit.SECONDS));
      assertTrue(client.getLeaseClient().timeToLive(id, LeaseOption.DEFAULT).get(10, TimeUnit.SECONDS).getTTL() > 0);
    }
    client.getLeaseClient().revoke(id).get(10, TimeUnit.SECONDS);
  }

  @Test
  void put_returns_prev_kv_and_get_sorts_and_filters() throws Exception {
    client.getKVClient().put(b("s/b"), b("2")).get(10, TimeUnit.SECONDS);
    PutResponse put = client.getKVClient().put(b("s/b"), b("22"), PutOption.builder().withPrevKV().build())
        .get(10, TimeUnit.SECONDS);
    assertTrue(put.hasPrevKv());
    assertEquals("2", s(put.getPrevKv().getValue()));
    client.getKVClient().put(b("s/a"), b("1")).get(10, TimeUnit.SECONDS);
    client.getKVClient().put(b("s/c"), b("3")).get(10, TimeUnit.SECONDS);
    GetResponse desc = client.getKVClient().get(b("s/"), GetOption.builder().isPrefix(true)
        .withSortField(GetOption.SortTarget.KEY).withSortOrder(GetOption.SortOrder.DESCEND).build())
        .get(10, TimeUnit.SECONDS);
    assertEquals(List.of("s/c", "s/b", "s/a"), desc.getKvs().stream().map(kv -> s(kv.getKey())).toList());
    GetResponse keysOnly = client.getKVClient().get(b("s/"), GetOption.builder().isPrefix(true).withKeysOnly(true).build())
        .get(10, TimeUnit.SECONDS);
    assertTrue(keysOnly.getKvs().stream().allMatch(kv -> kv.getValue().isEmpty()));
    long createdB = client.getKVClient().get(b("s/b")).get(10, TimeUnit.SECONDS).getKvs().get(0).getCreateRevision();
    GetResponse newer = client.getKVClient().get(b("s/"), GetOption.builder().isPrefix(true)
        .withMinCreateRevision(createdB + 1).build()).get(10, TimeUnit.SECONDS);
    assertEquals(List.of("s/a", "s/c"), newer.getKvs().stream().map(kv -> s(kv.getKey())).toList());
  }
}
