package io.vetcd.client;

import com.google.protobuf.ByteString;
import io.vetcd.pb.DeleteRangeRequest;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.RequestOp;
import io.vetcd.pb.TxnRequest;

/** Operations inside a txn. */
public final class Op {
  private Op() {}

  public static RequestOp put(String key, String value) {
    return put(Keys.bs(key), Keys.bs(value), 0);
  }

  public static RequestOp put(ByteString key, ByteString value, long lease) {
    return RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key).setValue(value).setLease(lease))
        .build();
  }

  public static RequestOp put(PutRequest put) {
    return RequestOp.newBuilder().setRequestPut(put).build();
  }

  public static RequestOp get(String key) {
    return get(Keys.bs(key), GetOptions.options());
  }

  public static RequestOp get(ByteString key, GetOptions options) {
    return RequestOp.newBuilder().setRequestRange(options.toRequest(key)).build();
  }

  public static RequestOp delete(String key) {
    return delete(Keys.bs(key), DeleteOptions.options());
  }

  public static RequestOp delete(ByteString key, DeleteOptions options) {
    return RequestOp.newBuilder().setRequestDeleteRange(options.toRequest(key)).build();
  }

  public static RequestOp txn(TxnRequest txn) {
    return RequestOp.newBuilder().setRequestTxn(txn).build();
  }

  static boolean isReadOnly(RequestOp op) {
    return switch (op.getRequestCase()) {
      case REQUEST_RANGE -> true;
      case REQUEST_TXN -> isReadOnly(op.getRequestTxn());
      default -> false;
    };
  }

  static boolean isReadOnly(TxnRequest txn) {
    return txn.getSuccessList().stream().allMatch(Op::isReadOnly)
        && txn.getFailureList().stream().allMatch(Op::isReadOnly);
  }

  /** Options of DeleteRange. */
  public static final class DeleteOptions {
    private ByteString rangeEnd;
    private boolean prefix;
    private boolean fromKey;
    private boolean prevKv;

    public static DeleteOptions options() {
      return new DeleteOptions();
    }

    public DeleteOptions prefix() {
      this.prefix = true;
      return this;
    }

    public DeleteOptions fromKey() {
      this.fromKey = true;
      return this;
    }

    public DeleteOptions rangeEnd(ByteString end) {
      this.rangeEnd = end;
      return this;
    }

    public DeleteOptions prevKv() {
      this.prevKv = true;
      return this;
    }

    DeleteRangeRequest toRequest(ByteString key) {
      DeleteRangeRequest.Builder b = DeleteRangeRequest.newBuilder().setKey(key).setPrevKv(prevKv);
      ByteString end = GetOptions.end(key, rangeEnd, prefix, fromKey);
      if (end != null) b.setRangeEnd(end);
      return b.build();
    }
  }
}
