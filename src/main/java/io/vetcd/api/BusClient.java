package io.vetcd.api;

import com.google.protobuf.ByteString;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.Commands;
import io.vetcd.bus.Watches;
import io.vetcd.errors.Errors;
import io.vetcd.errors.EtcdException;
import io.vetcd.errors.GrpcCode;
import io.vetcd.pb.DeleteRangeRequest;
import io.vetcd.pb.DeleteRangeResponse;
import io.vetcd.pb.RangeRequest;
import io.vetcd.pb.RangeResponse;
import io.vetcd.pb.TxnRequest;
import io.vetcd.pb.TxnResponse;
import io.vetcd.pb.WatchCreateRequest;
import io.vetcd.pb.WatchRequest;
import io.vetcd.pb.WatchResponse;
import io.vetcd.pb.internal.InternalRequest;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The KV and watch operations of the member, reached over the event bus as a client would reach
 * them over gRPC. Used by the frontends and by the server-side recipes (lock, election).
 */
public final class BusClient {
  private static final AtomicLong WATCH_IDS = new AtomicLong();

  private final Vertx vertx;
  private final DeliveryOptions delivery;

  public BusClient(Vertx vertx, long requestTimeoutMillis) {
    this.vertx = vertx;
    this.delivery = new DeliveryOptions().setSendTimeout(requestTimeoutMillis + 2_000);
  }

  public Future<RangeResponse> range(RangeRequest request) {
    return vertx.eventBus().<RangeResponse>request(Addresses.APPLY_READ, new Commands.Read(request, !request.getSerializable()),
        delivery).map(Message::body).recover(BusClient::failed);
  }

  public Future<TxnResponse> txn(TxnRequest request) {
    return write(InternalRequest.newBuilder().setTxn(request).build());
  }

  public Future<DeleteRangeResponse> delete(DeleteRangeRequest request) {
    return write(InternalRequest.newBuilder().setDeleteRange(request).build());
  }

  public <T> Future<T> write(InternalRequest request) {
    return vertx.eventBus().<T>request(Addresses.APPLY_WRITE, new Commands.Write(request), delivery)
        .map(Message::body).recover(BusClient::failed);
  }

  /** A watch owned by server-side code; {@link #close()} cancels it. */
  public final class Watch {
    private final String streamKey;
    private final MessageConsumer<WatchResponse> consumer;

    private Watch(String streamKey, MessageConsumer<WatchResponse> consumer) {
      this.streamKey = streamKey;
      this.consumer = consumer;
    }

    public void close() {
      consumer.unregister();
      vertx.eventBus().send(Addresses.WATCH, new Watches.StreamClosed(streamKey));
    }
  }

  /** Watches a key (or range) from {@code startRevision}; every response after "created" goes to the handler. */
  public Future<Watch> watch(WatchCreateRequest create, Consumer<WatchResponse> handler) {
    String streamKey = "internal" + WATCH_IDS.incrementAndGet();
    MessageConsumer<WatchResponse> consumer = vertx.eventBus().localConsumer(Addresses.watchStream(streamKey),
        m -> {
          if (!m.body().getCreated()) {
            handler.accept(m.body());
          }
        });
    return consumer.completion().map(v -> {
      vertx.eventBus().send(Addresses.WATCH,
          new Watches.Frame(streamKey, WatchRequest.newBuilder().setCreateRequest(create).build()));
      return new Watch(streamKey, consumer);
    });
  }

  /** Completes once {@code key} is deleted at or after {@code fromRevision}. */
  public Future<Void> waitDelete(ByteString key, long fromRevision) {
    Promise<Void> deleted = Promise.promise();
    WatchCreateRequest create = WatchCreateRequest.newBuilder().setKey(key).setStartRevision(fromRevision)
        .addFilters(WatchCreateRequest.FilterType.NOPUT).build();
    watch(create, response -> {
      if (response.getCanceled()) {
        deleted.tryFail(response.getCompactRevision() != 0 ? Errors.COMPACTED : Errors.WATCH_CANCELED);
      } else if (response.getEventsCount() > 0) {
        deleted.tryComplete();
      }
    }).onSuccess(watch -> deleted.future().onComplete(ar -> watch.close()))
        .onFailure(deleted::tryFail);
    return deleted.future();
  }

  /** The etcd error behind a failed bus request. */
  public static EtcdException toEtcd(Throwable t) {
    if (t instanceof EtcdException e) {
      return e;
    }
    if (t instanceof ReplyException reply) {
      if (reply.failureType() == ReplyFailure.TIMEOUT) {
        return Errors.TIMEOUT;
      }
      if (reply.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
        for (GrpcCode code : GrpcCode.values()) {
          if (code.number == reply.failureCode()) {
            return new EtcdException(code, reply.getMessage());
          }
        }
      }
      return Errors.STOPPED;
    }
    return new EtcdException(GrpcCode.UNKNOWN, String.valueOf(t.getMessage()));
  }

  private static <T> Future<T> failed(Throwable t) {
    return Future.failedFuture(toEtcd(t));
  }
}
