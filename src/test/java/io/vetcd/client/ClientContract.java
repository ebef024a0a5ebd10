package io.vetcd.client;

import static io.vetcd.client.Keys.bs;
import static org.junit.jupiter.api.Assertions.*;

import io.vertx.grpc.common.GrpcStatus;
import io.vetcd.pb.Event;
import io.vetcd.pb.LeaseKeepAliveResponse;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.RangeRequest.SortOrder;
import io.vetcd.pb.RangeRequest.SortTarget;
import io.vetcd.pb.RangeResponse;
import io.vetcd.pb.TxnResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;

/** The client's API, run against a vetcd member and against real etcd 3.4 by the subclasses. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ClientContract {
  static final Duration T = Duration.ofSeconds(10);
  VetcdClient client;

  abstract String startServer() throws Exception;

  abstract void stopServer() throws Exception;

  @BeforeAll
  void setUp() throws Exception {
    client = VetcdClient.builder().endpoints(startServer()).build();
  }

  @AfterAll
  void tearDown() throws Exception {
    if (client != null) client.close();
    stopServer();
  }

  static String v(RangeResponse r, int i) {
    return r.getKvs(i).getValue().toStringUtf8();
  }

  static List<String> keys(RangeResponse r) {
    List<String> out = new ArrayList<>();
    r.getKvsList().forEach(kv -> out.add(kv.getKey().toStringUtf8()));
    return out;
  }

  @Test
  void put_get_revisions_and_get_by_revision() {
    long r1 = client.kv().put("c/a", "1").block(T).getHeader().getRevision();
    var put2 = client.kv().put(PutRequest.newBuilder().setKey(bs("c/a")).setValue(bs("2")).setPrevKv(true).build())
        .block(T);
    assertEquals("1", put2.getPrevKv().getValue().toStringUtf8());
    RangeResponse get = client.kv().get("c/a").block(T);
    assertEquals("2", v(get, 0));
    assertEquals(2, get.getKvs(0).getVersion());
    assertEquals(r1, get.getKvs(0).getCreateRevision());
    assertEquals(r1 + 1, get.getKvs(0).getModRevision());
    assertEquals("1", v(client.kv().get("c/a", GetOptions.options().revision(r1)).block(T), 0));
    assertEquals(0, client.kv().get("c/missing").block(T).getKvsCount());
  }

  @Test
  void every_range_option() {
    long base = client.kv().put("r/b", "2").block(T).getHeader().getRevision();
    client.kv().put("r/a", "3").block(T);
    client.kv().put("r/c", "1").block(T);
    client.kv().put("r0", "x").block(T);

    RangeResponse p = client.kv().get("r/", GetOptions.options().prefix()).block(T);
    assertEquals(List.of("r/a", "r/b", "r/c"), keys(p));
    RangeResponse lim = client.kv().get("r/", GetOptions.options().prefix().limit(2)).block(T);
    assertEquals(2, lim.getKvsCount());
    assertEquals(3, lim.getCount());
    assertTrue(lim.getMore());
    assertEquals(List.of("r/c", "r/b", "r/a"), keys(client.kv().get("r/",
        GetOptions.options().prefix().sort(SortTarget.VALUE, SortOrder.ASCEND)).block(T)));
    assertEquals(List.of("r/c", "r/b", "r/a"), keys(client.kv().get("r/",
        GetOptions.options().prefix().sort(SortTarget.KEY, SortOrder.DESCEND)).block(T)));
    assertEquals(List.of("r/b"), keys(client.kv().get("r/", GetOptions.options().prefix().firstCreate()).block(T)));
    assertEquals(List.of("r/c"), keys(client.kv().get("r/", GetOptions.options().prefix().lastCreate()).block(T)));
    assertEquals(List.of("r/a", "r/b"), keys(client.kv().get("r/a", GetOptions.options().rangeEnd("r/c")).block(T)));
    RangeResponse from = client.kv().get("r/b", GetOptions.options().fromKey()).block(T);
    assertTrue(keys(from).containsAll(List.of("r/b", "r/c", "r0")));
    RangeResponse ko = client.kv().get("r/", GetOptions.options().prefix().keysOnly()).block(T);
    assertTrue(ko.getKvs(0).getValue().isEmpty());
    RangeResponse co = client.kv().get("r/", GetOptions.options().prefix().countOnly()).block(T);
    assertEquals(0, co.getKvsCount());
    assertEquals(3, co.getCount());
    assertEquals(List.of("r/a", "r/c"), keys(client.kv().get("r/",
        GetOptions.options().prefix().minModRevision(base + 1)).block(T)));
    assertEquals(List.of("r/b"), keys(client.kv().get("r/",
        GetOptions.options().prefix().maxCreateRevision(base)).block(T)));
    assertEquals(List.of("r/c"), keys(client.kv().get("r/",
        GetOptions.options().prefix().minCreateRevision(base + 2)).block(T)));
    assertEquals(List.of("r/b"), keys(client.kv().get("r/",
        GetOptions.options().prefix().maxModRevision(base)).block(T)));
    assertEquals(3, client.kv().get("r/", GetOptions.options().prefix().serializable()).block(T).getKvsCount());
  }

  @Test
  void delete_single_and_prefix_with_prev_kv() {
    client.kv().put("d/1", "a").block(T);
    client.kv().put("d/2", "b").block(T);
    client.kv().put("d/3", "c").block(T);
    assertEquals(1, client.kv().delete("d/1").block(T).getDeleted());
    var del = client.kv().delete("d/", Op.DeleteOptions.options().prefix().prevKv()).block(T);
    assertEquals(2, del.getDeleted());
    assertEquals(2, del.getPrevKvsCount());
    assertEquals(0, client.kv().get("d/", GetOptions.options().prefix()).block(T).getCount());
  }

  @Test
  void txn_compare_then_else() {
    client.kv().put("t/k", "v1").block(T);
    TxnResponse ok = client.kv().txn()
        .when(Cmp.value("t/k").eq("v1"), Cmp.version("t/k").eq(1), Cmp.createRevision("t/new").eq(0))
        .then(Op.put("t/k", "v2"), Op.put("t/new", "n"), Op.get("t/k"))
        .otherwise(Op.get("t/k"))
        .commit().block(T);
    assertTrue(ok.getSucceeded());
    assertEquals("v2", ok.getResponses(2).getResponseRange().getKvs(0).getValue().toStringUtf8());
    TxnResponse no = client.kv().txn()
        .when(Cmp.value("t/k").eq("v1"))
        .then(Op.delete("t/k"))
        .otherwise(Op.get("t/k"), Op.get("t/new"))
        .commit().block(T);
    assertFalse(no.getSucceeded());
    assertEquals("v2", no.getResponses(0).getResponseRange().getKvs(0).getValue().toStringUtf8());
    assertEquals(ok.getHeader().getRevision(), no.getHeader().getRevision(), "a failed txn does not write");
    assertTrue(client.kv().txn().when(Cmp.modRevision("t/k").eq(ok.getHeader().getRevision()))
        .then(Op.delete("t/k")).commit().block(T).getSucceeded());
  }

  @Test
  void errors_carry_grpc_code_and_etcd_message() {
    VetcdException e = assertThrows(VetcdException.class, () -> client.kv().put("", "x").block(T));
    assertEquals(GrpcStatus.INVALID_ARGUMENT, e.status());
    assertEquals("etcdserver: key is not provided", e.etcdMessage());
    assertFalse(e.mayHaveBeenApplied());
    VetcdException f = assertThrows(VetcdException.class, () -> client.kv().get("x",
        GetOptions.options().revision(1_000_000)).block(T));
    assertEquals(GrpcStatus.OUT_OF_RANGE, f.status());
    assertEquals("etcdserver: mvcc: required revision is a future revision", f.etcdMessage());
    VetcdException g = assertThrows(VetcdException.class, () -> client.lease().revoke(0x1234abcdL).block(T));
    assertEquals(GrpcStatus.NOT_FOUND, g.status());
    assertEquals("etcdserver: requested lease not found", g.etcdMessage());
  }

  @Test
  void compact_then_old_revision_is_gone_and_watch_from_it_fails() {
    long r1 = client.kv().put("cp/k", "1").block(T).getHeader().getRevision();
    long r2 = client.kv().put("cp/k", "2").block(T).getHeader().getRevision();
    client.kv().compact(r2, true).block(T);
    VetcdException e = assertThrows(VetcdException.class,
        () -> client.kv().get("cp/k", GetOptions.options().revision(r1)).block(T));
    assertEquals(GrpcStatus.OUT_OF_RANGE, e.status());
    assertEquals("etcdserver: mvcc: required revision has been compacted", e.etcdMessage());
    assertEquals("2", v(client.kv().get("cp/k", GetOptions.options().revision(r2)).block(T), 0));
    VetcdException w = assertThrows(VetcdException.class,
        () -> client.watch().watch("cp/k", WatchOptions.options().startRevision(r1)).blockFirst(T));
    assertEquals(r2, w.compactRevision());
  }

  @Test
  void lease_grant_attach_ttl_keepalive_revoke() throws Exception {
    var grant = client.lease().grant(30).block(T);
    long id = grant.getID();
    assertEquals(30, grant.getTTL());
    client.kv().put("l/k", "v", id).block(T);
    var ttl = client.lease().timeToLive(id, true).block(T);
    assertEquals(30, ttl.getGrantedTTL());
    assertEquals(List.of("l/k"), ttl.getKeysList().stream().map(k -> k.toStringUtf8()).toList());
    assertTrue(client.lease().leases().block(T).getLeasesList().stream().anyMatch(l -> l.getID() == id));
    List<LeaseKeepAliveResponse> answers = client.lease().keepAlive(id).take(1).collectList().block(T);
    assertEquals(30, answers.get(0).getTTL());
    client.lease().revoke(id).block(T);
    assertEquals(-1, client.lease().timeToLive(id, false).block(T).getTTL());
    assertEquals(0, client.kv().get("l/k").block(T).getCount());
    VetcdException gone = assertThrows(VetcdException.class, () -> client.lease().keepAlive(id).blockLast(T));
    assertEquals(GrpcStatus.NOT_FOUND, gone.status());
  }

  @Test
  void short_lease_expires_without_keepalive_and_lives_with_it() throws Exception {
    long kept = client.lease().grant(2).block(T).getID();
    long dropped = client.lease().grant(2).block(T).getID();
    client.kv().put("le/kept", "v", kept).block(T);
    client.kv().put("le/dropped", "v", dropped).block(T);
    Disposable ka = client.lease().keepAlive(kept).subscribe();
    try {
      long deadline = System.currentTimeMillis() + 8000;
      while (client.kv().get("le/dropped").block(T).getCount() > 0 && System.currentTimeMillis() < deadline) {
        Thread.sleep(200);
      }
      assertEquals(0, client.kv().get("le/dropped").block(T).getCount(), "unkept lease expired");
      Thread.sleep(1000);
      assertEquals(1, client.kv().get("le/kept").block(T).getCount(), "kept lease alive");
    } finally {
      ka.dispose();
    }
  }

  @Test
  void watch_delivers_puts_and_deletes_in_order_with_prev_kv() throws Exception {
    BlockingQueue<Event> q = new LinkedBlockingQueue<>();
    Disposable d = client.watch().watch("w/", WatchOptions.options().prefix().prevKv()).subscribe(q::add);
    try {
      Thread.sleep(300); // the watch starts after the current revision
      client.kv().put("w/a", "1").block(T);
      client.kv().put("w/a", "2").block(T);
      long delRev = client.kv().delete("w/a").block(T).getHeader().getRevision();
      Event e1 = q.poll(5, TimeUnit.SECONDS);
      Event e2 = q.poll(5, TimeUnit.SECONDS);
      Event e3 = q.poll(5, TimeUnit.SECONDS);
      assertEquals(Event.EventType.PUT, e1.getType());
      assertEquals("1", e1.getKv().getValue().toStringUtf8());
      assertEquals("1", e2.getPrevKv().getValue().toStringUtf8());
      assertEquals(Event.EventType.DELETE, e3.getType());
      assertEquals(delRev, e3.getKv().getModRevision());
    } finally {
      d.dispose();
    }
  }

  @Test
  void watch_from_a_past_revision_replays_history_and_filters() {
    long r1 = client.kv().put("wh/a", "1").block(T).getHeader().getRevision();
    client.kv().put("wh/b", "2").block(T);
    client.kv().delete("wh/a").block(T);
    List<Event> puts = client.watch().watch("wh/", WatchOptions.options().prefix().startRevision(r1).noDelete())
        .take(2).collectList().block(T);
    assertEquals(List.of("wh/a", "wh/b"), puts.stream().map(e -> e.getKv().getKey().toStringUtf8()).toList());
    List<Event> dels = client.watch().watch("wh/", WatchOptions.options().prefix().startRevision(r1).noPut())
        .take(1).collectList().block(T);
    assertEquals(Event.EventType.DELETE, dels.get(0).getType());
  }

  @Test
  void watch_honours_demand() throws Exception {
    long start = client.kv().get("bp").block(T).getHeader().getRevision() + 1;
    for (int i = 0; i < 100; i++) client.kv().put("bp/" + i, "v" + i).block(T);
    BlockingQueue<Event> q = new LinkedBlockingQueue<>();
    AtomicReference<Subscription> sub = new AtomicReference<>();
    BaseSubscriber<Event> s = new BaseSubscriber<>() {
      @Override
      protected void hookOnSubscribe(Subscription subscription) {
        sub.set(subscription);
        subscription.request(3);
      }

      @Override
      protected void hookOnNext(Event value) {
        q.add(value);
      }
    };
    client.watch().watch("bp/", WatchOptions.options().prefix().startRevision(start)).subscribe(s);
    try {
      Thread.sleep(700);
      assertEquals(3, q.size(), "only what was asked for");
      sub.get().request(97);
      long deadline = System.currentTimeMillis() + 5000;
      while (q.size() < 100 && System.currentTimeMillis() < deadline) Thread.sleep(20);
      List<Event> all = new ArrayList<>(q);
      assertEquals(100, all.size());
      for (int i = 0; i < 100; i++) assertEquals(start + i, all.get(i).getKv().getModRevision());
    } finally {
      s.dispose();
    }
  }

  @Test
  void cluster_member_list_and_status() {
    var members = client.cluster().memberList().block(T);
    assertEquals(1, members.getMembersCount());
    assertFalse(members.getMembers(0).getClientURLsList().isEmpty());
    var status = client.maintenance().status().block(T);
    assertTrue(status.getHeader().getRevision() >= 1);
    assertEquals(members.getMembers(0).getID(), status.getLeader());
    assertFalse(status.getVersion().isEmpty());
  }
}
