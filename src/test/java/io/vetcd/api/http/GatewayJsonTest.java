package io.vetcd.api.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vetcd.pb.WatchRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Request bodies the gateway reads as etcd's grpc-gateway (Go's JSON decoder) reads them. */
class GatewayJsonTest {
  @Test
  void a_oneof_with_several_members_set_keeps_one_as_go_does() {
    WatchRequest.Builder request = GatewayJson.parse(
        "{\"create_request\":{\"key\":\"bQ==\"},\"cancel_request\":{\"watch_id\":0}}", WatchRequest.newBuilder());
    assertTrue(request.hasCreateRequest());
    assertEquals("m", request.getCreateRequest().getKey().toStringUtf8());
  }

  @Test
  void a_request_stream_of_non_objects_fails_with_gos_words() {
    for (String[] c : List.of(
        new String[] {"[]", "json: cannot unmarshal array into Go value of type map[string]json.RawMessage"},
        new String[] {"\"s\"", "json: cannot unmarshal string into Go value of type map[string]json.RawMessage"},
        new String[] {"5", "json: cannot unmarshal number into Go value of type map[string]json.RawMessage"},
        new String[] {"true", "json: cannot unmarshal bool into Go value of type map[string]json.RawMessage"},
        new String[] {"x", "invalid character 'x' looking for beginning of value"})) {
      JsonObjectSplitter splitter = new JsonObjectSplitter(1 << 20);
      assertEquals(List.of(), splitter.feed(c[0].getBytes(StandardCharsets.UTF_8)));
      assertEquals(c[1], splitter.error(), c[0]);
    }
    JsonObjectSplitter splitter = new JsonObjectSplitter(1 << 20);
    assertEquals(List.of("{}", "{\"a\":1}"), splitter.feed("null {\"a\":1}".getBytes(StandardCharsets.UTF_8)));
  }
}
