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
  private final AuthGate gate;
  /** The client whose request this work serves (its permissions apply); null: the member's own work. */
  private final java.util.function.Supplier<io.vetcd.auth.AuthInfo> caller;

  public BusClient(Vertx vertx, long requestTimeoutMillis) {
    this(vertx, new DeliveryOptions().setSendTimeout(requestTimeoutMillis + 2_000), new AuthGate(vertx), null);
  }

  private BusClient(Vertx vertx, DeliveryOptions delivery, AuthGate gate,
      java.util.function.Supplier<io.vetcd.auth.AuthInfo> caller) {
    this.vertx = vertx;
    this.delivery = delivery;
    this.gate = gate;
    this.caller = caller;
  }

  /**
   * This client acting for {@code caller}: its reads and watches are checked and its writes marked
   * with the caller's permissions, at every step of a multi-step recipe (as etcd's lock and election
   * services call the KV API with the client's credentials).
   */
  public BusClient as(java.util.function.Supplier<io.vetcd.auth.AuthInfo> caller) {
    return new BusClient(vertx, delivery, gate, caller);
  }

  /** The caller (null: none); throws etcd's invalid-token error when the call's token is unknown. */
  private io.vetcd.auth.AuthInfo who() {
    return caller == null ? null : caller.get();
  }

  public Future<RangeResponse> range(RangeRequest request) {
    try {
      gate.checkRead(request, who());
    } catch (EtcdException e) {
      return Future.failedFuture(e);
    }
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
    try {
      request = AuthGate.stamp(request, who());
    } catch (EtcdException e) {
      return Future.failedFuture(e);
    }
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
    try {
      io.vetcd.auth.AuthInfo who = who();
      if (who != null && gate.refuseWatch(who, create) != null) {
        return Future.failedFuture(io.vetcd.auth.AuthErrors.PERMISSION_DENIED);
      }
    } catch (EtcdException e) {
      return Future.failedFuture(e);
    }
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
