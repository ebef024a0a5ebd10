package io.vetcd.mvcc;

import static io.vetcd.mvcc.MvccStoreTest.ZERO;
import static io.vetcd.mvcc.MvccStoreTest.assertErr;
import static io.vetcd.mvcc.MvccStoreTest.b;
import static io.vetcd.mvcc.MvccStoreTest.opDel;
import static io.vetcd.mvcc.MvccStoreTest.opGet;
import static io.vetcd.mvcc.MvccStoreTest.opPut;
import static io.vetcd.mvcc.MvccStoreTest.opTxn;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import io.vetcd.errors.Errors;
import io.vetcd.pb.Compare;
import io.vetcd.pb.DeleteRangeRequest;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.RangeRequest;
import io.vetcd.pb.RequestOp;
import io.vetcd.pb.TxnRequest;
import org.junit.jupiter.api.Test;

/** Every case here was also sent to etcd 3.4.23 through its grpc-gateway; the outcomes match. */
class RequestValidatorTest {
  static TxnRequest.Builder txn() {
    return TxnRequest.newBuilder();
  }

  static void ok(TxnRequest.Builder t) {
    assertDoesNotThrow(() -> RequestValidator.checkTxn(t.build(), 128));
  }

  static void dup(TxnRequest.Builder t) {
    assertErr(Errors.DUPLICATE_KEY, () -> RequestValidator.checkTxn(t.build(), 128));
  }

  @Test
  void simpleRequests() {
    assertErr(Errors.EMPTY_KEY, () -> RequestValidator.checkRange(RangeRequest.getDefaultInstance()));
    assertErr(Errors.EMPTY_KEY, () -> RequestValidator.checkDeleteRange(DeleteRangeRequest.getDefaultInstance()));
    assertErr(Errors.EMPTY_KEY, () -> RequestValidator.checkPut(PutRequest.newBuilder().setValue(b("v")).build()));
    assertErr(Errors.VALUE_PROVIDED, () -> RequestValidator.checkPut(
        PutRequest.newBuilder().setKey(b("k")).setValue(b("v")).setIgnoreValue(true).build()));
    assertErr(Errors.LEASE_PROVIDED, () -> RequestValidator.checkPut(
        PutRequest.newBuilder().setKey(b("k")).setLease(5).setIgnoreLease(true).build()));
    RequestValidator.checkPut(PutRequest.newBuilder().setKey(b("k")).setIgnoreValue(true).setIgnoreLease(true).build());
  }

  @Test
  void txnOpChecks() {
    assertErr(Errors.EMPTY_KEY, () -> RequestValidator.checkTxn(txn().addCompare(Compare.getDefaultInstance()).build(), 128));
    assertErr(Errors.KEY_NOT_FOUND, () -> RequestValidator.checkTxn(txn().addSuccess(RequestOp.getDefaultInstance()).build(), 128));
    assertErr(Errors.EMPTY_KEY, () -> RequestValidator.checkTxn(txn().addFailure(
        RequestOp.newBuilder().setRequestPut(PutRequest.getDefaultInstance())).build(), 128));
    assertErr(Errors.VALUE_PROVIDED, () -> RequestValidator.checkTxn(txn().addSuccess(opTxn(txn().addSuccess(
        RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("k")).setValue(b("v")).setIgnoreValue(true))).build())).build(), 128));
  }

  @Test
  void tooManyOps() {
    TxnRequest.Builder t = txn();
    for (int i = 0; i < 128; i++) {
      t.addSuccess(opPut("k" + i, "v"));
    }
    ok(t);
    t.addSuccess(opPut("k128", "v"));
    assertErr(Errors.TOO_MANY_OPS, () -> RequestValidator.checkTxn(t.build(), 128));
    TxnRequest.Builder c = txn();
    for (int i = 0; i < 129; i++) {
      c.addCompare(Compare.newBuilder().setKey(b("k")));
    }
    assertErr(Errors.TOO_MANY_OPS, () -> RequestValidator.checkTxn(c.build(), 128));
    // a nested txn gets what its parent left: 100 puts + a txn of 29 is too many, 99 puts + a txn of 28 is fine
    TxnRequest.Builder outer = txn();
    TxnRequest.Builder inner = txn();
    for (int i = 0; i < 100; i++) {
      outer.addSuccess(opPut("k" + i, "v"));
    }
    for (int i = 0; i < 29; i++) {
      inner.addSuccess(opPut("n" + i, "v"));
    }
    TxnRequest.Builder tooMany = outer.clone().addSuccess(opTxn(inner.build()));
    assertErr(Errors.TOO_MANY_OPS, () -> RequestValidator.checkTxn(tooMany.build(), 128));
    outer.removeSuccess(99);
    inner.removeSuccess(28);
    ok(outer.addSuccess(opTxn(inner.build())));
  }

  @Test
  void duplicateKeys() {
    dup(txn().addSuccess(opPut("a", "1")).addSuccess(opPut("a", "2")));
    ok(txn().addSuccess(opPut("a", "1")).addFailure(opPut("a", "2")));
    dup(txn().addSuccess(opDel("a", b("c"))).addSuccess(opPut("b", "1")));
    dup(txn().addSuccess(opPut("a", "1")).addSuccess(opDel("a", null)));
    ok(txn().addSuccess(opPut("c", "1")).addSuccess(opDel("a", b("c"))));
    ok(txn().addSuccess(opDel("a", b("c"))).addSuccess(opDel("b", null)));
    ok(txn().addSuccess(opGet("a")).addSuccess(opPut("a", "1")));
    // a from-key delete never overlaps a put (etcd quirk)
    ok(txn().addSuccess(opPut("zz", "1")).addSuccess(opDel("z", ZERO)));
    // nested
    dup(txn().addSuccess(opPut("a", "1")).addSuccess(opTxn(txn().addSuccess(opPut("a", "2")).build())));
    dup(txn().addSuccess(opDel("a", null)).addSuccess(opTxn(txn().addFailure(opPut("a", "2")).build())));
    ok(txn().addSuccess(opTxn(txn().addSuccess(opPut("a", "1")).addFailure(opPut("a", "2")).build())));
    dup(txn().addSuccess(opTxn(txn().addSuccess(opPut("a", "1")).build()))
        .addSuccess(opTxn(txn().addFailure(opPut("a", "2")).build())));
    // a nested delete only conflicts with puts checked after it (etcd checks in this order)
    dup(txn().addSuccess(opTxn(txn().addFailure(opDel("q", null)).build()))
        .addSuccess(opTxn(txn().addSuccess(opPut("q", "1")).build())));
    ok(txn().addSuccess(opTxn(txn().addSuccess(opPut("q", "1")).build()))
        .addSuccess(opTxn(txn().addFailure(opDel("q", null)).build())));
    dup(txn().addSuccess(opTxn(txn().addFailure(opDel("p", b("r"))).build())).addSuccess(opPut("q", "1")));
    // branches are checked separately
    ok(txn().addSuccess(opPut("a", "1")).addFailure(opDel("a", null)));
  }
}
