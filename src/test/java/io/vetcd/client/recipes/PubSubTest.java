package io.vetcd.client.recipes;

import static org.junit.jupiter.api.Assertions.*;

import io.vetcd.client.VetcdClient;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;

class PubSubTest extends Servers {

  @ParameterizedTest
  @ValueSource(strings = {"vetcd", "etcd"})
  void subscribers_get_topic_prefix_messages_in_order_and_resume(String kind) throws Exception {
    VetcdClient c = client(kind);
    PubSub bus = new PubSub(c, "topics-" + kind + "/");
    BlockingQueue<PubSub.Message> got = new LinkedBlockingQueue<>();
    Disposable sub = bus.subscribe("news/").subscribe(got::add);
    Thread.sleep(300);
    bus.publish("news/eu", "m1").block(T);
    bus.publish("sports/x", "ignored").block(T);
    bus.publish("news/us", "m2").block(T);
    PubSub.Message m1 = got.poll(5, TimeUnit.SECONDS);
    PubSub.Message m2 = got.poll(5, TimeUnit.SECONDS);
    assertEquals("news/eu", m1.topic());
    assertEquals("m1", m1.payload());
    assertEquals("m2", m2.payload());
    assertTrue(m2.revision() > m1.revision());
    sub.dispose();

    // the subscriber went away after m1; it resumes from m1's revision + 1, m3 was sent meanwhile
    bus.publish("news/eu", "m3").block(T);
    List<String> resumed = bus.subscribe("news/", m1.revision() + 1).take(2).map(PubSub.Message::payload)
        .collectList().block(T);
    assertEquals(List.of("m2", "m3"), resumed);
  }
}
