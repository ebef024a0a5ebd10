package io.vetcd.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.maintenance.AlarmMember;
import io.etcd.jetcd.maintenance.AlarmType;
import io.etcd.jetcd.options.DeleteOption;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** --quota-backend-bytes: the NOSPACE alarm, what still works under it, and how an operator clears it. */
class QuotaAlarmTest {
  static ByteSequence b(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  @Test
  void space_exceeded_raises_nospace_then_compaction_and_disarm_restore_writes() throws Exception {
    try (InProcessMember member = new InProcessMember("--quota-backend-bytes", "200000");
        Client client = Client.builder().endpoints(member.endpoint()).build()) {
      ByteSequence value = ByteSequence.from(new byte[10_000]);
      ExecutionException full = null;
      for (int i = 0; i < 100 && full == null; i++) {
        try {
          client.getKVClient().put(b("fill/" + (i % 5)), value).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          full = e;
        }
      }
      assertNotNull(full, "writes must stop at the quota");
      assertTrue(full.getCause().getMessage().contains("etcdserver: mvcc: database space exceeded"),
          full.getCause().getMessage());
      // As in etcd, the member answers the write at once and raises the alarm through raft: poll for it.
      List<AlarmMember> alarms = List.of();
      for (int i = 0; i < 100 && alarms.isEmpty(); i++) {
        alarms = client.getMaintenanceClient().listAlarms().get(10, TimeUnit.SECONDS).getAlarms();
        if (alarms.isEmpty()) {
          Thread.sleep(100);
        }
      }
      assertEquals(1, alarms.size());
      assertEquals(AlarmType.NOSPACE, alarms.get(0).getAlarmType());

      // Under the alarm: reads, deletes and compaction still work; puts do not.
      assertEquals(5, client.getKVClient().get(b("fill/"), io.etcd.jetcd.options.GetOption.builder().isPrefix(true)
          .withCountOnly(true).build()).get(10, TimeUnit.SECONDS).getCount());
      ExecutionException small = assertThrows(ExecutionException.class,
          () -> client.getKVClient().put(b("tiny"), b("x")).get(10, TimeUnit.SECONDS));
      assertTrue(small.getCause().getMessage().contains("database space exceeded"));
      // a txn without puts grows nothing: it still runs (as etcd's capped applier lets it)
      assertEquals(1, client.getKVClient().txn().Then(io.etcd.jetcd.op.Op.get(b("fill/0"),
          io.etcd.jetcd.options.GetOption.DEFAULT)).commit().get(10, TimeUnit.SECONDS).getGetResponses().size());
      long rev = client.getKVClient().delete(b("fill/"), DeleteOption.builder().isPrefix(true).build())
          .get(10, TimeUnit.SECONDS).getHeader().getRevision();
      client.getKVClient().compact(rev).get(10, TimeUnit.SECONDS);
      // defragmentation runs under the alarm and never grows the file (MvccStoreTest sees it shrink)
      long sizeBefore = client.getMaintenanceClient().statusMember(member.endpoint()).get(10, TimeUnit.SECONDS).getDbSize();
      client.getMaintenanceClient().defragmentMember(member.endpoint()).get(30, TimeUnit.SECONDS);
      long sizeAfter = client.getMaintenanceClient().statusMember(member.endpoint()).get(10, TimeUnit.SECONDS).getDbSize();
      assertTrue(sizeAfter <= sizeBefore, "db size " + sizeBefore + " -> " + sizeAfter);
      client.getMaintenanceClient().alarmDisarm(alarms.get(0)).get(10, TimeUnit.SECONDS);

      long indexBefore = client.getMaintenanceClient().statusMember(member.endpoint()).get(10, TimeUnit.SECONDS)
          .getRaftIndex();
      assertEquals(List.of(), client.getMaintenanceClient().listAlarms().get(10, TimeUnit.SECONDS).getAlarms());
      assertEquals(indexBefore + 1, client.getMaintenanceClient().statusMember(member.endpoint())
          .get(10, TimeUnit.SECONDS).getRaftIndex(), "as etcd, listing alarms goes through raft");
      client.getKVClient().put(b("after"), b("ok")).get(10, TimeUnit.SECONDS);
    }
  }
}
