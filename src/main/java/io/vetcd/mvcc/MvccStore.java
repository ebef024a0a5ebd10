package io.vetcd.mvcc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.vetcd.errors.Errors;
import io.vetcd.pb.Compare;
import io.vetcd.pb.DeleteRangeRequest;
import io.vetcd.pb.DeleteRangeResponse;
import io.vetcd.pb.Event;
import io.vetcd.pb.KeyValue;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.PutResponse;
import io.vetcd.pb.RangeRequest;
import io.vetcd.pb.RangeResponse;
import io.vetcd.pb.RequestOp;
import io.vetcd.pb.ResponseHeader;
import io.vetcd.pb.ResponseOp;
import io.vetcd.pb.TxnRequest;
import io.vetcd.pb.TxnResponse;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongPredicate;
import java.util.zip.CRC32C;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

/**
 * The multi-version key-value store: every write request gets one main revision, each change in it a
 * sub revision. All versions live in a persistent revision tree (MapDB); an in-memory index maps each
 * key to its revisions. Behaves like etcd 3.4's mvcc store and applier.
 *
 * <p>Single writer: writes must not overlap each other or {@link #commit()}. All methods except
 * {@link #commit()} are synchronized, so reads may run on another thread than writes and concurrently
 * with a commit.
 */
public final class MvccStore implements Closeable {
  private static final String META_CURRENT_REV = "currentRevision";
  private static final String META_COMPACT_REV = "compactRevision";
  private static final String META_CONSISTENT_INDEX = "consistentIndex";
  private static final String TREE = "kv";
  private static final byte[] KEY_BUCKET = "key".getBytes(StandardCharsets.US_ASCII);

  private final DB db;
  private final Path file;
  private final BTreeMap<RevisionKey, byte[]> tree;
  private final BTreeMap<String, Long> meta;
  /** Lease id → granted TTL in seconds; in the same MapDB commits as the data it guards. */
  private final BTreeMap<Long, Long> leases;
  /** Member id → bit set of raised alarm types (1 << AlarmType number). */
  private final BTreeMap<Long, Integer> alarms;
  /** Cluster state the server keeps with the data (members, cluster id): travels in snapshots. */
  private final BTreeMap<String, byte[]> cluster;
  private final BTreeMap<String, byte[]> auth;
  private final KeyIndexMap index = new KeyIndexMap();
  // Counted under the store's lock, read without it (metrics scrapes must not wait for a write).
  /** Keys with a live generation (etcd_debugging_mvcc_keys_total). */
  private volatile long liveKeys;
  /** etcd's mvcc operation counts: ranges (compares and prev_kv reads too), puts, deletes, txns. */
  private volatile long rangeOps;
  private volatile long putOps;
  private volatile long deleteOps;
  private volatile long txnCount;
  /**
   * Live values kept on the heap (in their key's index) so reads at the current revision skip the
   * file; bounded, so a large store's values stay in the memory-mapped file only (each value would
   * otherwise be held twice). Keys written while the budget is spent are read from the file. 32 MiB
   * holds ~90,000 values of 256 bytes: the hot keys of most workloads, a tenth of a 1M-key store.
   */
  static final long VALUE_CACHE_BYTES_MAX = 32L << 20;
  private long valueCacheBytesMax = VALUE_CACHE_BYTES_MAX;
  private long valueCacheBytes;
  private volatile long currentRev = 1;
  private volatile long compactRev = -1;
  private volatile long consistentIndex;
  /** Volatile: the apply loop reads it (quota checks) while a worker may hold the lock to defragment. */
  private volatile long bytesInUse;
  private volatile LongPredicate leaseExists;
  private boolean closed;

  private MvccStore(DB db, Path file) {
    this.db = db;
    this.file = file;
    this.tree = db.treeMap(TREE, RevisionKeySerializer.INSTANCE, Serializer.BYTE_ARRAY)
        .valuesOutsideNodesEnable().createOrOpen();
    this.meta = db.treeMap("meta", Serializer.STRING, Serializer.LONG).createOrOpen();
    this.leases = db.treeMap("lease", Serializer.LONG, Serializer.LONG).createOrOpen();
    this.alarms = db.treeMap("alarm", Serializer.LONG, Serializer.INTEGER).createOrOpen();
    this.cluster = db.treeMap("cluster", Serializer.STRING, Serializer.BYTE_ARRAY).createOrOpen();
    this.auth = db.treeMap("auth", Serializer.STRING, Serializer.BYTE_ARRAY).createOrOpen();
    restore();
  }

  /**
   * The store's file is a cache of the applied state, not a durable record: the WAL (plus the last
   * store snapshot) is. MapDB writes in place without its own transaction log (its crash recovery
   * proved unreliable under kill -9), so a file is trusted only when {@link #close()} finished and
   * left this marker beside it; any other file is refused and the caller rebuilds the store.
   */
  private static final String CLEAN_MARKER_SUFFIX = ".clean";

  /** The store's file was written by an older vetcd, in a layout this one does not read: rebuild it. */
  public static final class OlderFormatException extends RuntimeException {
    OlderFormatException(Path file) {
      super("the store " + file + " has the older layout (revision tree keys as byte arrays)");
    }
  }

  /**
   * Opens the store's maps on {@code db}, or closes it and throws. The older layout is told by
   * MapDB's own catalog: it records a built-in key serializer (byte arrays) but not ours, and the
   * catalog, unlike the maps' content, never travels in a store snapshot.
   */
  private static MvccStore withDb(DB db, Path file) {
    try {
      if (db.exists(TREE) && db.nameCatalogParamsFor(TREE).containsKey(TREE + "#keySerializer")) {
        throw new OlderFormatException(file);
      }
      return new MvccStore(db, file);
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
  }

  /** The store's file was not closed cleanly (the process died): its content cannot be trusted. */
  public static final class NotCleanlyClosedException extends RuntimeException {
    NotCleanlyClosedException(Path file) {
      super("the store " + file + " was not closed cleanly");
    }
  }

  /**
   * Opens the store in {@code dbFile}, or creates an empty one when there is none. Throws
   * {@link NotCleanlyClosedException} when the file exists but was not closed cleanly. From here on
   * the file is "in use" until {@link #close()}: the clean marker is removed durably before anything
   * can change the file.
   */
  public static MvccStore open(Path dbFile) {
    try {
      Path parent = dbFile.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path marker = cleanMarker(dbFile);
      if (Files.exists(dbFile) && !Files.exists(marker)) {
        throw new NotCleanlyClosedException(dbFile);
      }
      if (Files.deleteIfExists(marker)) {
        syncDirectory(parent);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return withDb(fileDb(dbFile), dbFile);
  }

  /** Deletes the store's files, whatever their state, and creates an empty store in their place. */
  public static MvccStore recreate(Path dbFile) {
    try {
      Path parent = dbFile.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      String name = dbFile.getFileName().toString();
      try (var files = Files.list(parent)) {
        for (Path f : files.filter(f -> f.getFileName().toString().equals(name)
            || f.getFileName().toString().startsWith(name + ".")).toList()) {
          if (!Files.isDirectory(f)) {
            Files.delete(f);
          }
        }
      }
      syncDirectory(parent);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return withDb(fileDb(dbFile), dbFile);
  }

  private static DB fileDb(Path dbFile) {
    // Memory-mapped: a B-tree node read or write is a memory copy, not a system call (about ten times
    // the puts per second of a file channel). Safe because the file is only a cache (see open).
    return DBMaker.fileDB(dbFile.toFile()).fileMmapEnableIfSupported().cleanerHackEnable()
        .allocateStartSize(1 << 20).allocateIncrement(1 << 20).make();
  }

  private static Path cleanMarker(Path dbFile) {
    return dbFile.resolveSibling(dbFile.getFileName() + CLEAN_MARKER_SUFFIX);
  }

  private static void syncDirectory(Path dir) throws IOException {
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir, java.nio.file.StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  public static MvccStore inMemory() {
    return withDb(DBMaker.memoryDB().make(), null);
  }

  /**
   * Optional lease existence check: when set, a put naming a lease the predicate rejects fails with
   * LEASE_NOT_FOUND, at the same point of the request checks as etcd does.
   */
  public void setLeaseChecker(LongPredicate exists) {
    this.leaseExists = exists;
  }

  private void restore() {
    valueCacheBytes = 0;
    long maxMain = 0;
    long bytes = 0;
    for (Map.Entry<RevisionKey, byte[]> e : tree.entrySet()) {
      RevisionKey k = e.getKey();
      Revision rev = k.revision();
      KeyValue kv = parse(e.getValue());
      bytes += k.byteLength() + e.getValue().length;
      maxMain = Math.max(maxMain, rev.main());
      KeyIndex ki = index.get(kv.getKey());
      if (k.tombstone()) {
        if (ki != null && ki.isLive()) {
          uncache(ki);
          ki.tombstone(rev);
        }
        continue;
      }
      if (ki == null) {
        ki = new KeyIndex(kv.getKey());
        ki.restore(new Revision(kv.getCreateRevision(), 0), rev, kv.getVersion());
        index.add(ki);
      } else {
        ki.put(rev);
      }
      cache(ki, kv);
    }
    bytesInUse = bytes;
    countLiveKeys();
    currentRev = Math.max(1, Math.max(maxMain, meta.getOrDefault(META_CURRENT_REV, 1L)));
    compactRev = meta.getOrDefault(META_COMPACT_REV, -1L);
    consistentIndex = meta.getOrDefault(META_CONSISTENT_INDEX, 0L);
  }

  private void countLiveKeys() {
    long live = 0;
    for (KeyIndex ki : index) {
      if (ki.isLive()) {
        live++;
      }
    }
    liveKeys = live;
  }

  /** The operation counts etcd's mvcc layer reports, as of now. */
  public record OpCounts(long ranges, long puts, long deletes, long txns, long keys) {}

  public OpCounts opCounts() {
    return new OpCounts(rangeOps, putOps, deleteOps, txnCount, liveKeys);
  }

  private long opsSoFar() {
    return rangeOps + putOps + deleteOps;
  }

  /** As etcd's metrics txn: a store transaction of more than one operation counts as a txn. */
  private void countTxn(long opsBefore) {
    if (opsSoFar() - opsBefore > 1) {
      txnCount++;
    }
  }

  private static KeyValue parse(byte[] v) {
    try {
      return KeyValue.parseFrom(v);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt revision tree value", e);
    }
  }

  // ---------------------------------------------------------------- state

  public long currentRevision() {
    return currentRev;
  }

  /** The revision of the last compaction; -1 when the store was never compacted (as etcd). */
  public long compactRevision() {
    return compactRev;
  }

  public long consistentIndex() {
    return consistentIndex;
  }

  /** Recorded with the data at the next {@link #commit()}. */
  public synchronized void setConsistentIndex(long index) {
    consistentIndex = index;
  }

  /**
   * Records the revision and the consistent index with the data, so an export or a clean close
   * carries them. Not a durability point: the WAL is (see {@link #open}).
   */
  public void commit() {
    meta.put(META_CURRENT_REV, currentRev);
    meta.put(META_CONSISTENT_INDEX, consistentIndex);
  }

  public long sizeBytes() {
    if (file == null) {
      return 0;
    }
    try {
      return Files.size(file);
    } catch (IOException e) {
      return 0;
    }
  }

  public long sizeInUseBytes() {
    return bytesInUse;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (file == null) {
      db.close();
      return;
    }
    commit();
    db.commit(); // without a transaction log this flushes and syncs the file
    db.close();
    try {
      Path marker = cleanMarker(file);
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(marker,
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      syncDirectory(marker.toAbsolutePath().getParent());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * etcd's defragmentation: rewrites the file without the space freed by compactions and deletes,
   * so its size drops to what is in use. No write may run meanwhile; reads wait.
   */
  public synchronized void defragment() {
    commit();
    db.getStore().compact();
  }

  /** Closes without marking the file clean: the next {@link #open} refuses it. */
  public synchronized void abandon() {
    if (!closed) {
      closed = true;
      db.close();
    }
  }

  /** The persisted lease table (id → TTL seconds), written by the apply layer, committed with the data. */
  public java.util.Map<Long, Long> leaseTable() {
    return leases;
  }

  /** The persisted alarms (member id → bit set of alarm types), committed with the data. */
  public java.util.Map<Long, Integer> alarmTable() {
    return alarms;
  }

  /** The persisted cluster table (members, cluster id), owned by the server, committed with the data. */
  public java.util.Map<String, byte[]> clusterTable() {
    return cluster;
  }

  /**
   * Writes the whole store (every table, as of the last {@link #commit()} plus what was written
   * since) to {@code out}. No write may run meanwhile; reads may.
   */
  public void exportTo(java.io.OutputStream out) throws IOException {
    StoreSnapshot.export(db, out);
  }

  /**
   * Replaces the whole store by a snapshot written by {@link #exportTo}: the file is checked first
   * (a damaged one changes nothing), then every table is replaced and the in-memory index rebuilt.
   */
  public synchronized void replaceFrom(Path snapshot) throws IOException {
    StoreSnapshot.verify(snapshot);
    // A failure past the check (an I/O error) leaves a mixed store: the caller stops, and the next
    // start, finding the file not cleanly closed, rebuilds it from a snapshot and the WAL.
    StoreSnapshot.load(db, snapshot);
    index.clear();
    restore();
  }

  /**
   * Every entry of the revision tree in revision order, in etcd's key-bucket layout (revision key,
   * {@code mvccpb.KeyValue} bytes): for a backup taken while no write runs. Not synchronized, so
   * reads go on meanwhile.
   */
  public void forEachRevision(java.util.function.BiConsumer<byte[], byte[]> action) {
    for (Map.Entry<RevisionKey, byte[]> e : tree.entrySet()) {
      action.accept(e.getKey().toBytes(), e.getValue());
    }
  }

  /**
   * Restoring a backup into an empty store: one revision tree entry in etcd's key-bucket layout.
   * {@link #finishLoad} ends the load.
   */
  public synchronized void loadRevision(byte[] key, byte[] value) {
    RevisionKey k;
    try {
      k = RevisionKey.fromBytes(key);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
    parse(value);
    treePut(k, value);
    if (++loadedSinceCommit >= LOAD_COMMIT_EVERY) {
      db.commit(); // bounds MapDB's pending transaction; an interrupted restore is discarded whole anyway
      loadedSinceCommit = 0;
    }
  }

  private static final int LOAD_COMMIT_EVERY = 10_000;
  private int loadedSinceCommit;

  /**
   * Ends a load: records the compaction and consistent index, commits, and rebuilds the index. As
   * etcd, the current revision is the newest loaded one, or the compaction revision if that is newer.
   */
  public synchronized void finishLoad(long compactRevision, long consistentIndex) {
    long newest = tree.isEmpty() ? 1 : tree.lastKey().main();
    meta.put(META_COMPACT_REV, compactRevision);
    this.consistentIndex = consistentIndex;
    currentRev = Math.max(Math.max(newest, compactRevision), 1);
    commit();
    index.clear();
    restore();
  }

  /** The persisted auth state (users, roles, flags; see io.vetcd.auth.AuthStore), committed with the data. */
  public java.util.Map<String, byte[]> authTable() {
    return auth;
  }

  /** Every live key attached to a lease, with its lease: rebuilds lease attachments at start. */
  public synchronized void forEachLeasedKey(java.util.function.BiConsumer<ByteString, Long> action) {
    for (KeyIndex ki : index) {
      KeyValue kv = kvAt(ki, currentRev);
      if (kv != null && kv.getLease() != 0) {
        action.accept(kv.getKey(), kv.getLease());
      }
    }
  }

  // ---------------------------------------------------------------- reads

  /** Latest live version of a key. */
  public synchronized Optional<KeyValue> get(ByteString key) {
    return Optional.ofNullable(kvAt(key, currentRev));
  }

  /** The key's value at rev, or null; rev must not be below the compaction revision. */
  private KeyValue kvAt(ByteString key, long rev) {
    return kvAt(index.get(key), rev);
  }

  /** The version of {@code ki}'s key at {@code rev} (null: none, or no such key). */
  private KeyValue kvAt(KeyIndex ki, long rev) {
    if (ki == null) {
      return null;
    }
    KeyIndex.State s = ki.get(rev);
    return s == null ? null : readKv(new Hit(ki, s.modified()));
  }

  /** Makes kv the key's cached live value if the cache's budget allows (dropping the older one). */
  private void cache(KeyIndex ki, KeyValue kv) {
    uncache(ki);
    long size = cachedSizeBytes(kv);
    if (valueCacheBytes + size <= valueCacheBytesMax) {
      ki.latest = kv;
      valueCacheBytes += size;
    }
  }

  private void uncache(KeyIndex ki) {
    if (ki.latest != null) {
      valueCacheBytes -= cachedSizeBytes(ki.latest);
      ki.latest = null;
    }
  }

  /** The heap a cached value holds: its bytes plus the objects around them (an estimate). */
  private static long cachedSizeBytes(KeyValue kv) {
    return kv.getKey().size() + kv.getValue().size() + 96;
  }

  /** The bytes of values currently cached on the heap (for tests). */
  synchronized long valueCacheBytes() {
    return valueCacheBytes;
  }

  /** A smaller cache budget, so tests reach it with a few keys. */
  synchronized void valueCacheBytesMax(long bytes) {
    valueCacheBytesMax = bytes;
  }

  /** A key and the revision of the version a read sees. */
  private record Hit(KeyIndex ki, Revision rev) {}

  private KeyValue readKv(Hit hit) {
    KeyValue cached = hit.ki().cachedAt(hit.rev());
    if (cached != null) {
      return cached;
    }
    Revision rev = hit.rev();
    byte[] v = tree.get(RevisionKey.put(rev));
    if (v == null) {
      throw new IllegalStateException("revision " + rev + " is in the index but not in the tree");
    }
    return parse(v);
  }

  /** Keys of [key, end) (end null: the single key; end empty: every key >= key). */
  private Iterable<KeyIndex> keysIn(ByteString key, ByteString end) {
    if (end == null) {
      KeyIndex ki = index.get(key);
      return ki == null ? List.of() : List.of(ki);
    }
    if (end.isEmpty()) {
      return index.tail(key);
    }
    if (KeyOrder.INSTANCE.compare(key, end) >= 0) {
      return List.of();
    }
    return index.range(key, end);
  }

  /** etcd's range end conventions: empty = single key, "\0" = every key from key on. */
  private static ByteString rangeEnd(ByteString rangeEnd) {
    if (rangeEnd.isEmpty()) {
      return null;
    }
    if (rangeEnd.size() == 1 && rangeEnd.byteAt(0) == 0) {
      return ByteString.EMPTY;
    }
    return rangeEnd;
  }

  private List<Hit> revisionsIn(ByteString key, ByteString end, long atRev) {
    List<Hit> out = new ArrayList<>();
    for (KeyIndex ki : keysIn(key, end)) {
      KeyIndex.State s = ki.get(atRev);
      if (s != null) {
        out.add(new Hit(ki, s.modified()));
      }
    }
    return out;
  }

  private List<ByteString> liveKeysIn(ByteString key, ByteString end, long atRev) {
    List<ByteString> out = new ArrayList<>();
    for (KeyIndex ki : keysIn(key, end)) {
      if (ki.get(atRev) != null) {
        out.add(ki.key());
      }
    }
    return out;
  }

  public synchronized RangeResponse.Builder range(RangeRequest r) {
    rangeOps++;
    return doRange(r, currentRev);
  }

  private RangeResponse.Builder doRange(RangeRequest r, long viewRev) {
    long rev = r.getRevision();
    if (rev > viewRev) {
      throw Errors.FUTURE_REV;
    }
    if (rev <= 0) {
      rev = viewRev;
    }
    if (rev < compactRev) {
      throw Errors.COMPACTED;
    }
    boolean fetchAll = r.getSortOrder() != RangeRequest.SortOrder.NONE
        || r.getMinModRevision() != 0 || r.getMaxModRevision() != 0
        || r.getMinCreateRevision() != 0 || r.getMaxCreateRevision() != 0;
    long limit = fetchAll ? 0 : r.getLimit();
    if (limit > 0) {
      limit++;
    }
    List<Hit> revs = revisionsIn(r.getKey(), rangeEnd(r.getRangeEnd()), rev);
    RangeResponse.Builder resp = RangeResponse.newBuilder().setCount(revs.size());
    if (r.getCountOnly() || revs.isEmpty()) {
      return resp;
    }
    int n = (limit <= 0 || limit > revs.size()) ? revs.size() : (int) limit;
    List<KeyValue> kvs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      kvs.add(readKv(revs.get(i)));
    }
    if (r.getMaxModRevision() != 0) {
      kvs.removeIf(kv -> kv.getModRevision() > r.getMaxModRevision());
    }
    if (r.getMinModRevision() != 0) {
      kvs.removeIf(kv -> kv.getModRevision() < r.getMinModRevision());
    }
    if (r.getMaxCreateRevision() != 0) {
      kvs.removeIf(kv -> kv.getCreateRevision() > r.getMaxCreateRevision());
    }
    if (r.getMinCreateRevision() != 0) {
      kvs.removeIf(kv -> kv.getCreateRevision() < r.getMinCreateRevision());
    }
    RangeRequest.SortOrder order = r.getSortOrder();
    if (r.getSortTarget() != RangeRequest.SortTarget.KEY && order == RangeRequest.SortOrder.NONE) {
      order = RangeRequest.SortOrder.ASCEND;
    }
    if (order == RangeRequest.SortOrder.ASCEND || order == RangeRequest.SortOrder.DESCEND) {
      Comparator<KeyValue> c = switch (r.getSortTarget()) {
        case VERSION -> Comparator.comparingLong(KeyValue::getVersion);
        case CREATE -> Comparator.comparingLong(KeyValue::getCreateRevision);
        case MOD -> Comparator.comparingLong(KeyValue::getModRevision);
        case VALUE -> Comparator.comparing(KeyValue::getValue, KeyOrder.INSTANCE);
        default -> Comparator.comparing(KeyValue::getKey, KeyOrder.INSTANCE);
      };
      // stable, like Go's insertion sort for small result sets: ties stay in key order
      kvs.sort(order == RangeRequest.SortOrder.DESCEND ? c.reversed() : c);
    }
    if (r.getLimit() > 0 && kvs.size() > r.getLimit()) {
      kvs = kvs.subList(0, (int) r.getLimit());
      resp.setMore(true);
    }
    for (KeyValue kv : kvs) {
      resp.addKvs(r.getKeysOnly() ? kv.toBuilder().clearValue().build() : kv);
    }
    return resp;
  }

  // ---------------------------------------------------------------- writes

  /** One write request in progress: changes share main revision beginRev + 1. */
  private final class WriteTxn {
    final long beginRev;
    final List<KeyValue> changes = new ArrayList<>();
    final List<Boolean> tombstones = new ArrayList<>();
    /** Each touched key's value before this write (for the events' prev_kv). */
    final Map<ByteString, Optional<KeyValue>> before = new java.util.HashMap<>();

    WriteTxn() {
      this.beginRev = currentRev;
    }

    /** The revision reads inside this write see. */
    long viewRev() {
      return changes.isEmpty() ? beginRev : beginRev + 1;
    }

    long put(ByteString key, ByteString value, long lease) {
      long rev = beginRev + 1;
      Revision idx = new Revision(rev, changes.size());
      KeyIndex ki = index.get(key);
      long created = rev;
      long ver = 0;
      if (ki != null) {
        KeyIndex.State s = ki.get(rev);
        if (s != null) {
          created = s.created().main();
          ver = s.version();
        }
      }
      KeyIndex found = ki; // one key index lookup per put: it is two binary searches
      before.computeIfAbsent(key, k -> Optional.ofNullable(kvAt(found, beginRev)));
      KeyValue kv = KeyValue.newBuilder().setKey(key).setValue(value).setCreateRevision(created)
          .setModRevision(rev).setVersion(ver + 1).setLease(lease).build();
      treePut(RevisionKey.put(idx), kv.toByteArray());
      if (ki == null) {
        ki = new KeyIndex(key);
        index.add(ki);
      }
      if (!ki.isLive()) {
        liveKeys++;
      }
      ki.put(idx);
      cache(ki, kv);
      changes.add(kv);
      tombstones.add(false);
      return rev;
    }

    void delete(ByteString key) {
      Revision idx = new Revision(beginRev + 1, changes.size());
      KeyIndex ki = index.get(key);
      if (ki == null || !ki.isLive()) {
        throw new IllegalStateException("delete of a key that is not live: " + key.toStringUtf8());
      }
      before.computeIfAbsent(key, k -> Optional.ofNullable(kvAt(ki, beginRev)));
      KeyValue kv = KeyValue.newBuilder().setKey(key).build();
      treePut(RevisionKey.tombstone(idx), kv.toByteArray());
      uncache(ki);
      ki.tombstone(idx);
      liveKeys--;
      changes.add(kv);
      tombstones.add(true);
    }

    long deleteRange(ByteString key, ByteString end) {
      List<ByteString> keys = liveKeysIn(key, end, viewRev());
      for (ByteString k : keys) {
        delete(k);
      }
      return keys.size();
    }

    /** Publishes the new revision (if anything changed) and builds the events. */
    <R> WriteResult<R> end(R response) {
      if (changes.isEmpty()) {
        return new WriteResult<>(response, currentRev, List.of());
      }
      long rev = beginRev + 1;
      if (currentRev != beginRev) {
        throw new IllegalStateException("store revision moved during a write");
      }
      currentRev = rev;
      List<Event> events = new ArrayList<>(changes.size());
      for (int i = 0; i < changes.size(); i++) {
        KeyValue kv = changes.get(i);
        Event.Builder e = Event.newBuilder();
        if (tombstones.get(i)) {
          e.setType(Event.EventType.DELETE).setKv(kv.toBuilder().setModRevision(rev));
        } else {
          e.setType(Event.EventType.PUT).setKv(kv);
        }
        before.get(kv.getKey()).ifPresent(e::setPrevKv);
        events.add(e.build());
      }
      return new WriteResult<>(response, rev, Collections.unmodifiableList(events));
    }
  }

  private void treePut(RevisionKey k, byte[] v) {
    byte[] old = tree.put(k, v);
    if (old != null) {
      throw new IllegalStateException("revision " + k.revision() + " written twice");
    }
    bytesInUse += k.byteLength() + v.length;
  }

  private void checkLease(long lease) {
    LongPredicate exists = leaseExists;
    if (lease != 0 && exists != null && !exists.test(lease)) {
      throw Errors.LEASE_NOT_FOUND;
    }
  }

  public synchronized WriteResult<PutResponse> put(PutRequest p) {
    checkLease(p.getLease());
    long opsBefore = opsSoFar();
    WriteTxn tx = new WriteTxn();
    PutResponse.Builder resp = doPut(tx, p);
    countTxn(opsBefore);
    return tx.end(resp.build());
  }

  private PutResponse.Builder doPut(WriteTxn tx, PutRequest p) {
    PutResponse.Builder resp = PutResponse.newBuilder();
    ByteString value = p.getValue();
    long lease = p.getLease();
    KeyValue prev = null;
    if (p.getIgnoreValue() || p.getIgnoreLease() || p.getPrevKv()) {
      rangeOps++;
      prev = kvAt(p.getKey(), tx.viewRev());
    }
    if ((p.getIgnoreValue() || p.getIgnoreLease()) && prev == null) {
      throw Errors.KEY_NOT_FOUND;
    }
    if (p.getIgnoreValue()) {
      value = prev.getValue();
    }
    if (p.getIgnoreLease()) {
      lease = prev.getLease();
    }
    if (p.getPrevKv() && prev != null) {
      resp.setPrevKv(prev);
    }
    putOps++;
    long rev = tx.put(p.getKey(), value, lease);
    resp.setHeader(ResponseHeader.newBuilder().setRevision(rev));
    return resp;
  }

  public synchronized WriteResult<DeleteRangeResponse> deleteRange(DeleteRangeRequest d) {
    long opsBefore = opsSoFar();
    WriteTxn tx = new WriteTxn();
    DeleteRangeResponse.Builder resp = doDelete(tx, d);
    countTxn(opsBefore);
    return tx.end(resp.build());
  }

  private DeleteRangeResponse.Builder doDelete(WriteTxn tx, DeleteRangeRequest d) {
    DeleteRangeResponse.Builder resp = DeleteRangeResponse.newBuilder();
    ByteString end = rangeEnd(d.getRangeEnd());
    if (d.getPrevKv()) {
      rangeOps++;
      for (Hit hit : revisionsIn(d.getKey(), end, tx.viewRev())) {
        resp.addPrevKvs(readKv(hit));
      }
    }
    deleteOps++;
    resp.setDeleted(tx.deleteRange(d.getKey(), end));
    resp.setHeader(ResponseHeader.newBuilder().setRevision(tx.viewRev()));
    return resp;
  }

  /** Deletes the given keys in one revision, in key order (lease revocation); gone keys are skipped. */
  public synchronized WriteResult<Void> deleteKeys(Collection<ByteString> keys) {
    TreeSet<ByteString> sorted = new TreeSet<>(KeyOrder.INSTANCE);
    sorted.addAll(keys);
    long opsBefore = opsSoFar();
    WriteTxn tx = new WriteTxn();
    for (ByteString k : sorted) {
      deleteOps++;
      tx.deleteRange(k, null);
    }
    countTxn(opsBefore);
    return tx.end(null);
  }

  // ---------------------------------------------------------------- txn

  /** The branch each (nested) txn takes, decided before any write, as etcd does. */
  private record TxnPath(boolean succeeded, List<TxnPath> nested) {}

  private TxnPath comparePath(TxnRequest t, long viewRev) {
    boolean ok = true;
    for (Compare c : t.getCompareList()) {
      if (!applyCompare(c, viewRev)) {
        ok = false;
        break;
      }
    }
    List<TxnPath> nested = new ArrayList<>();
    for (RequestOp op : ok ? t.getSuccessList() : t.getFailureList()) {
      if (op.hasRequestTxn()) {
        nested.add(comparePath(op.getRequestTxn(), viewRev));
      }
    }
    return new TxnPath(ok, nested);
  }

  private boolean applyCompare(Compare c, long viewRev) {
    rangeOps++;
    List<Hit> revs = revisionsIn(c.getKey(), rangeEnd(c.getRangeEnd()), viewRev);
    if (revs.isEmpty()) {
      if (c.getTarget() == Compare.CompareTarget.VALUE) {
        return false; // a missing key has no value to compare
      }
      return compareKv(c, KeyValue.getDefaultInstance());
    }
    for (Hit hit : revs) {
      if (!compareKv(c, readKv(hit))) {
        return false;
      }
    }
    return true;
  }

  private static boolean compareKv(Compare c, KeyValue kv) {
    int result;
    switch (c.getTarget()) {
      case VALUE -> {
        ByteString v = c.getTargetUnionCase() == Compare.TargetUnionCase.VALUE ? c.getValue() : ByteString.EMPTY;
        result = KeyOrder.INSTANCE.compare(kv.getValue(), v);
      }
      case CREATE -> result = Long.compare(kv.getCreateRevision(),
          c.getTargetUnionCase() == Compare.TargetUnionCase.CREATE_REVISION ? c.getCreateRevision() : 0);
      case MOD -> result = Long.compare(kv.getModRevision(),
          c.getTargetUnionCase() == Compare.TargetUnionCase.MOD_REVISION ? c.getModRevision() : 0);
      case VERSION -> result = Long.compare(kv.getVersion(),
          c.getTargetUnionCase() == Compare.TargetUnionCase.VERSION ? c.getVersion() : 0);
      case LEASE -> result = Long.compare(kv.getLease(),
          c.getTargetUnionCase() == Compare.TargetUnionCase.LEASE ? c.getLease() : 0);
      default -> result = 0;
    }
    return switch (c.getResult()) {
      case EQUAL -> result == 0;
      case NOT_EQUAL -> result != 0;
      case GREATER -> result > 0;
      case LESS -> result < 0;
      default -> true;
    };
  }

  private interface OpCheck {
    void check(RequestOp op);
  }

  private static void checkPath(TxnRequest t, TxnPath path, OpCheck f) {
    int nested = 0;
    for (RequestOp op : path.succeeded() ? t.getSuccessList() : t.getFailureList()) {
      if (op.hasRequestTxn()) {
        checkPath(op.getRequestTxn(), path.nested().get(nested++), f);
      } else {
        f.check(op);
      }
    }
  }

  public synchronized WriteResult<TxnResponse> txn(TxnRequest t) {
    long viewRev = currentRev;
    long opsBefore = opsSoFar();
    TxnPath path = comparePath(t, viewRev);
    boolean readOnly = RequestValidator.isReadOnlyTxn(t);
    if (!readOnly) {
      // deletes earlier in the txn: an ignore_value/ignore_lease put of a key they removed would fail
      // half way through the writes (etcd panics there); it is rejected up front instead
      List<ByteString[]> deleted = new ArrayList<>();
      checkPath(t, path, op -> {
        if (op.hasRequestDeleteRange()) {
          DeleteRangeRequest d = op.getRequestDeleteRange();
          deleted.add(new ByteString[] {d.getKey(), rangeEnd(d.getRangeEnd())});
          return;
        }
        if (!op.hasRequestPut()) {
          return;
        }
        PutRequest p = op.getRequestPut();
        if (p.getIgnoreValue() || p.getIgnoreLease()) {
          rangeOps++;
          if (kvAt(p.getKey(), viewRev) == null || inAny(deleted, p.getKey())) {
            throw Errors.KEY_NOT_FOUND;
          }
        }
        checkLease(p.getLease());
      });
    }
    checkPath(t, path, op -> {
      if (!op.hasRequestRange()) {
        return;
      }
      long rev = op.getRequestRange().getRevision();
      if (rev == 0) {
        return;
      }
      if (rev > viewRev) {
        throw Errors.FUTURE_REV;
      }
      if (rev < compactRev) {
        throw Errors.COMPACTED;
      }
    });
    if (!readOnly) {
      // etcd decides the path in a read transaction and then writes in another one
      countTxn(opsBefore);
      opsBefore = opsSoFar();
    }
    WriteTxn tx = new WriteTxn();
    TxnResponse.Builder resp = applyTxn(tx, t, path);
    countTxn(opsBefore);
    return tx.end(resp.build());
  }

  private static boolean inAny(List<ByteString[]> spans, ByteString key) {
    for (ByteString[] span : spans) {
      ByteString end = span[1];
      boolean in = end == null ? span[0].equals(key)
          : KeyOrder.INSTANCE.compare(span[0], key) <= 0 && (end.isEmpty() || KeyOrder.INSTANCE.compare(key, end) < 0);
      if (in) {
        return true;
      }
    }
    return false;
  }

  private TxnResponse.Builder applyTxn(WriteTxn tx, TxnRequest t, TxnPath path) {
    TxnResponse.Builder resp = TxnResponse.newBuilder().setSucceeded(path.succeeded());
    int nested = 0;
    for (RequestOp op : path.succeeded() ? t.getSuccessList() : t.getFailureList()) {
      switch (op.getRequestCase()) {
        case REQUEST_RANGE -> {
          long view = tx.viewRev();
          rangeOps++;
          RangeResponse.Builder r = doRange(op.getRequestRange(), view);
          r.setHeader(ResponseHeader.newBuilder().setRevision(view));
          resp.addResponses(ResponseOp.newBuilder().setResponseRange(r));
        }
        case REQUEST_PUT -> resp.addResponses(ResponseOp.newBuilder().setResponsePut(doPut(tx, op.getRequestPut())));
        case REQUEST_DELETE_RANGE ->
            resp.addResponses(ResponseOp.newBuilder().setResponseDeleteRange(doDelete(tx, op.getRequestDeleteRange())));
        case REQUEST_TXN -> {
          TxnResponse.Builder inner = applyTxn(tx, op.getRequestTxn(), path.nested().get(nested++));
          inner.setHeader(ResponseHeader.getDefaultInstance());
          resp.addResponses(ResponseOp.newBuilder().setResponseTxn(inner));
        }
        default -> resp.addResponses(ResponseOp.getDefaultInstance());
      }
    }
    return resp;
  }

  // ---------------------------------------------------------------- compaction, history, hashes

  public synchronized void compact(long revision) {
    if (revision <= compactRev) {
      throw Errors.COMPACTED;
    }
    if (revision > currentRev) {
      throw Errors.FUTURE_REV;
    }
    Set<Revision> keep = new HashSet<>();
    index.removeIf(ki -> {
      ki.compact(revision, keep);
      return ki.isEmpty();
    });
    List<RevisionKey> doomed = new ArrayList<>();
    for (RevisionKey k : tree.headMap(RevisionKey.floor(revision + 1)).keySet()) {
      if (!keep.contains(k.revision())) {
        doomed.add(k);
      }
    }
    for (RevisionKey k : doomed) {
      byte[] v = tree.remove(k);
      if (v != null) {
        bytesInUse -= k.byteLength() + v.length;
      }
    }
    compactRev = revision;
    meta.put(META_COMPACT_REV, revision);
  }

  /**
   * The events of revisions [fromRevision, min(toRevision, fromRevision + maxRevisions - 1)] in order,
   * each with prev_kv when the key was live at the previous revision and that revision is not compacted.
   * COMPACTED when fromRevision is below the compaction revision (a watch may start at it, as in etcd).
   */
  public synchronized List<Event> history(long fromRevision, long toRevision, int maxRevisions) {
    if (fromRevision < compactRev) {
      throw Errors.COMPACTED;
    }
    long from = Math.max(fromRevision, 1);
    long to = Math.min(toRevision, currentRev);
    if (maxRevisions > 0 && to - from + 1 > maxRevisions) {
      to = from + maxRevisions - 1;
    }
    if (to < from) {
      return List.of();
    }
    List<Event> out = new ArrayList<>();
    NavigableMap<RevisionKey, byte[]> span = tree.subMap(RevisionKey.floor(from), true, RevisionKey.floor(to + 1), false);
    for (Map.Entry<RevisionKey, byte[]> e : span.entrySet()) {
      Revision rev = e.getKey().revision();
      KeyValue kv = parse(e.getValue());
      Event.Builder ev = Event.newBuilder();
      if (e.getKey().tombstone()) {
        ev.setType(Event.EventType.DELETE).setKv(kv.toBuilder().setModRevision(rev.main()));
      } else {
        ev.setType(Event.EventType.PUT).setKv(kv);
      }
      if (rev.main() - 1 >= compactRev) {
        KeyValue prev = kvAt(kv.getKey(), rev.main() - 1);
        if (prev != null) {
          ev.setPrevKv(prev);
        }
      }
      out.add(ev.build());
    }
    return out;
  }

  /** etcd's HashKV: CRC32C over the revision tree up to revision (0 = current), skipping compacted entries. */
  public synchronized int hashKv(long revision) {
    if (revision > 0 && revision <= compactRev) {
      throw Errors.COMPACTED;
    }
    if (revision > 0 && revision > currentRev) {
      throw Errors.FUTURE_REV;
    }
    long rev = revision == 0 ? currentRev : revision;
    Set<Revision> keep = new HashSet<>();
    for (KeyIndex ki : index) {
      ki.keep(rev, keep);
    }
    CRC32C h = new CRC32C();
    h.update(KEY_BUCKET);
    // a negative revision hashes no entry, as in etcd
    for (Map.Entry<RevisionKey, byte[]> e : tree.headMap(RevisionKey.floor(Math.max(0, rev + 1))).entrySet()) {
      RevisionKey k = e.getKey();
      if (k.main() <= compactRev && !keep.isEmpty() && !keep.contains(k.revision())) {
        continue;
      }
      h.update(k.toBytes());
      h.update(e.getValue());
    }
    return (int) h.getValue();
  }

  /** Hash of the whole store: every revision tree entry plus the compaction revision. */
  public synchronized int hash() {
    CRC32C h = new CRC32C();
    h.update(KEY_BUCKET);
    for (Map.Entry<RevisionKey, byte[]> e : tree.entrySet()) {
      h.update(e.getKey().toBytes());
      h.update(e.getValue());
    }
    byte[] c = new byte[8];
    long cr = compactRev;
    for (int i = 7; i >= 0; i--) {
      c[i] = (byte) cr;
      cr >>= 8;
    }
    h.update(c);
    return (int) h.getValue();
  }
}
