package io.vetcd.client;

import com.google.protobuf.ByteString;
import io.vetcd.pb.Compare;
import io.vetcd.pb.CompactionRequest;
import io.vetcd.pb.CompactionResponse;
import io.vetcd.pb.DeleteRangeResponse;
import io.vetcd.pb.KVGrpcClient;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.PutResponse;
import io.vetcd.pb.RangeResponse;
import io.vetcd.pb.RequestOp;
import io.vetcd.pb.TxnRequest;
import io.vetcd.pb.TxnResponse;
import java.util.List;
import reactor.core.publisher.Mono;

/** KV: put, get, delete, txn, compact. Reads are retried on failover; writes are not (see {@link VetcdClient}). */
public final class Kv {
  private final VetcdClient client;

  Kv(VetcdClient client) {
    this.client = client;
  }

  public Mono<PutResponse> put(String key, String value) {
    return put(PutRequest.newBuilder().setKey(Keys.bs(key)).setValue(Keys.bs(value)).build());
  }

  /** Put attached to a lease. */
  public Mono<PutResponse> put(String key, String value, long lease) {
    return put(PutRequest.newBuilder().setKey(Keys.bs(key)).setValue(Keys.bs(value)).setLease(lease).build());
  }

  /** Any put: with {@code prev_kv}, {@code ignore_value}, {@code ignore_lease} ... */
  public Mono<PutResponse> put(PutRequest request) {
    return client.unary(KVGrpcClient.Put, request, false);
  }

  public Mono<RangeResponse> get(String key) {
    return get(Keys.bs(key), GetOptions.options());
  }

  public Mono<RangeResponse> get(String key, GetOptions options) {
    return get(Keys.bs(key), options);
  }

  public Mono<RangeResponse> get(ByteString key, GetOptions options) {
    return client.unary(KVGrpcClient.Range, options.toRequest(key), true);
  }

  public Mono<DeleteRangeResponse> delete(String key) {
    return delete(Keys.bs(key), Op.DeleteOptions.options());
  }

  public Mono<DeleteRangeResponse> delete(String key, Op.DeleteOptions options) {
    return delete(Keys.bs(key), options);
  }

  public Mono<DeleteRangeResponse> delete(ByteString key, Op.DeleteOptions options) {
    return client.unary(KVGrpcClient.DeleteRange, options.toRequest(key), false);
  }

  /** Starts a txn: {@code kv.txn().when(...).then(...).otherwise(...).commit()}. */
  public Txn txn() {
    return new Txn(this);
  }

  public Mono<TxnResponse> txn(TxnRequest request) {
    return client.unary(KVGrpcClient.Txn, request, Op.isReadOnly(request));
  }

  /** Compacts the history up to {@code revision}; physical waits until the compaction is on disk. */
  public Mono<CompactionResponse> compact(long revision, boolean physical) {
    return client.unary(KVGrpcClient.Compact,
        CompactionRequest.newBuilder().setRevision(revision).setPhysical(physical).build(), false);
  }

  public Mono<CompactionResponse> compact(long revision) {
    return compact(revision, false);
  }

  /** A txn under construction. */
  public static final class Txn {
    private final Kv kv;
    private final TxnRequest.Builder b = TxnRequest.newBuilder();

    Txn(Kv kv) {
      this.kv = kv;
    }

    public Txn when(Compare... compares) {
      b.addAllCompare(List.of(compares));
      return this;
    }

    public Txn then(RequestOp... ops) {
      b.addAllSuccess(List.of(ops));
      return this;
    }

    public Txn otherwise(RequestOp... ops) {
      b.addAllFailure(List.of(ops));
      return this;
    }

    public TxnRequest request() {
      return b.build();
    }

    public Mono<TxnResponse> commit() {
      return kv.txn(b.build());
    }
  }
}
