package io.vetcd.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A txn of ranges only is a read in etcd: it is answered from the store (after a read index unless
 * every range is serializable) and takes no raft entry, so the raft index stays where it was.
 */
class ReadOnlyTxnTest {
  static ByteSequence b(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  @Test
  void a_txn_of_gets_takes_no_raft_entry_and_a_txn_with_a_put_takes_one() throws Exception {
    try (InProcessMember member = new InProcessMember();
        Client client = Client.builder().endpoints(member.endpoint()).build()) {
      long rev = client.getKVClient().put(b("ro/a"), b("1")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
      long index = raftIndex(client, member);

      TxnResponse linearizable = client.getKVClient().txn()
          .If(new Cmp(b("ro/a"), Cmp.Op.EQUAL, CmpTarget.value(b("1"))))
          .Then(Op.get(b("ro/a"), GetOption.DEFAULT)).Else(Op.get(b("ro/missing"), GetOption.DEFAULT))
          .commit().get(10, TimeUnit.SECONDS);
      assertTrue(linearizable.isSucceeded());
      assertEquals(rev, linearizable.getHeader().getRevision());
      assertEquals("1", linearizable.getGetResponses().get(0).getKvs().get(0).getValue().toString(UTF_8));

      TxnResponse serializable = client.getKVClient().txn()
          .If(new Cmp(b("ro/a"), Cmp.Op.EQUAL, CmpTarget.value(b("2"))))
          .Else(Op.get(b("ro/a"), GetOption.builder().withSerializable(true).build()))
          .commit().get(10, TimeUnit.SECONDS);
      assertFalse(serializable.isSucceeded());
      assertEquals(1, serializable.getGetResponses().get(0).getCount());
      TxnResponse empty = client.getKVClient().txn().commit().get(10, TimeUnit.SECONDS);
      assertTrue(empty.isSucceeded());
      assertEquals(rev, empty.getHeader().getRevision());
      assertEquals(index, raftIndex(client, member), "a read-only txn is not a raft entry");

      // a read-only txn still checks its ranges' revisions
      ExecutionException future = assertThrows(ExecutionException.class, () -> client.getKVClient().txn()
          .Then(Op.get(b("ro/a"), GetOption.builder().withRevision(rev + 100).build())).commit().get(10, TimeUnit.SECONDS));
      assertTrue(future.getCause().getMessage().contains("etcdserver: mvcc: required revision is a future revision"),
          future.getCause().getMessage());

      TxnResponse write = client.getKVClient().txn().Then(Op.put(b("ro/b"), b("2"), PutOption.DEFAULT))
          .commit().get(10, TimeUnit.SECONDS);
      assertEquals(rev + 1, write.getHeader().getRevision());
      assertEquals(index + 1, raftIndex(client, member), "a txn with a put is one raft entry");
    }
  }

  private static long raftIndex(Client client, InProcessMember member) throws Exception {
    return client.getMaintenanceClient().statusMember(member.endpoint()).get(10, TimeUnit.SECONDS).getRaftIndex();
  }
}
