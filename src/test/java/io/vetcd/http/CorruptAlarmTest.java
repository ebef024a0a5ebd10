package io.vetcd.http;

import static io.vetcd.http.GatewayMember.b64;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The CORRUPT alarm, as etcd 3.4.23 answers under it (checked side by side): writes to the data and
 * leases fail with DataLoss 'etcdserver: corrupt cluster' (HTTP 500), reads are still served, and
 * writes work again once the alarm is disarmed.
 */
@Timeout(60)
class CorruptAlarmTest {
  private static final String CORRUPT = "{\"error\":\"etcdserver: corrupt cluster\","
      + "\"message\":\"etcdserver: corrupt cluster\",\"code\":15}";

  @Test
  void writes_stop_under_the_corrupt_alarm_and_reads_go_on() throws Exception {
    try (GatewayMember member = new GatewayMember()) {
      String a = b64("a");
      member.call("/v3/kv/put", "{\"key\":\"" + a + "\",\"value\":\"" + b64("1") + "\"}");
      JsonObject raised = member.call("/v3/maintenance/alarm",
          "{\"action\":\"ACTIVATE\",\"memberID\":1,\"alarm\":\"CORRUPT\"}");
      assertEquals("{\"alarms\":[{\"memberID\":\"1\",\"alarm\":\"CORRUPT\"}]}", raised.encode());

      for (String[] write : new String[][] {
          {"/v3/kv/put", "{\"key\":\"" + a + "\",\"value\":\"" + b64("2") + "\"}"},
          {"/v3/kv/deleterange", "{\"key\":\"" + a + "\"}"},
          {"/v3/kv/txn", "{\"success\":[{\"requestPut\":{\"key\":\"" + a + "\"}}]}"},
          {"/v3/kv/compaction", "{\"revision\":1}"},
          {"/v3/lease/grant", "{\"TTL\":10}"}}) {
        HttpResponse<String> refused = member.post(write[0], write[1]);
        assertEquals(500, refused.statusCode(), write[0] + ": " + refused.body());
        assertEquals(CORRUPT, refused.body(), write[0]);
      }
      JsonObject read = member.call("/v3/kv/range", "{\"key\":\"" + a + "\"}");
      assertEquals(b64("1"), read.getJsonArray("kvs").getJsonObject(0).getString("value"));
      JsonObject readTxn = member.call("/v3/kv/txn", "{\"success\":[{\"requestRange\":{\"key\":\"" + a + "\"}}]}");
      assertEquals(true, readTxn.getBoolean("succeeded"));

      member.call("/v3/maintenance/alarm", "{\"action\":\"DEACTIVATE\",\"memberID\":1,\"alarm\":\"CORRUPT\"}");
      JsonObject put = member.call("/v3/kv/put", "{\"key\":\"" + a + "\",\"value\":\"" + b64("3") + "\"}");
      assertEquals("3", put.getJsonObject("header").getString("revision"));
    }
  }
}
