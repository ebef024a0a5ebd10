package io.vetcd.wal;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The write-ahead log: raft entries, hard state and snapshot markers in CRC-checked records, spread
 * over segment files.
 *
 * <h2>On disk</h2>
 * A directory of segments named {@code <seq>-<firstIndex>.wal} (both 16 hex digits, etcd style), where
 * {@code seq} counts segments from 1 and {@code firstIndex} is the index the segment's first new entry
 * was expected to have. A record is
 * <pre>
 *   int32 length   (of type + payload, >= 1)
 *   int32 crc      (CRC32C of the length field, the type and the payload)
 *   byte  type     (1 meta, 2 entry, 3 hard state, 4 snapshot marker)
 *   payload        (big-endian fields)
 * </pre>
 * Every segment starts with a meta record (magic, version, seq, firstIndex) followed by the hard state
 * and snapshot marker current when it was created, so that releasing older segments never loses them.
 * A new segment is written to a {@code .tmp} file, forced and renamed into place. A segment is cut
 * once it reaches the configured size (64 MiB by default).
 *
 * <p>Preallocation: the segment being written is zero-filled a few MiB ahead of its last record, so
 * that an fsync after an append only writes data, not the file's new size and block allocation (about
 * a third cheaper here, and the fsync is most of a single write's latency). A zero record header marks
 * the end of the log, and so do fewer zero bytes than a header at the end of the file (the zero fill
 * stops at the segment size). A segment is cut back to its records when it is closed or rotated, so only the
 * last segment of a member that crashed has zeros after its records.
 *
 * <h2>Recovery</h2>
 * {@link #open} replays every segment. A torn (partial) or corrupt (CRC mismatch, impossible length)
 * record in the last segment is truncated away together with everything after it, logged at WARNING
 * and reported in {@link WalRecovered}; so are non-zero bytes after the zero header that ends the log
 * (only zeros may follow it). The same damage in any other segment, a missing segment, or a
 * record that is intact but breaks the log's rules throws an {@link IOException}: a node must stop
 * loudly rather than lose committed data.
 *
 * <h2>Threads</h2>
 * Not designed for concurrent use: {@link #append}, {@link #saveSnapshotMarker}, {@link #sync},
 * {@link #releaseBefore} and {@link #close} must be called by one thread at a time (the caller
 * serializes them, e.g. append on the raft thread and sync on a worker, never overlapping). The methods
 * are {@code synchronized} only to make overlapping calls safe and to publish state between those
 * threads; a {@code sync()} holds the lock for the whole fsync, so an overlapping append waits for it.
 *
 * <h2>Failures</h2>
 * After any I/O error while writing or syncing the WAL is unusable (every later call throws): after a
 * failed fsync the state of the page cache is unknown, so the only safe move is to stop and recover by
 * reopening.
 */
public final class Wal implements Closeable {
    public static final long DEFAULT_SEGMENT_SIZE_BYTES = 64L << 20;

    private static final System.Logger LOG = System.getLogger(Wal.class.getName());

    static final int MAGIC = 0x5657414c; // "VWAL"
    static final int VERSION = 1;
    static final byte TYPE_META = 1;
    static final byte TYPE_ENTRY = 2;
    static final byte TYPE_HARD_STATE = 3;
    static final byte TYPE_SNAPSHOT = 4;
    /** Snapshot marker flags: keep the entries after it, discard them (diverged), or a segment-head copy. */
    static final byte SNAP_KEEP = 0;
    static final byte SNAP_DISCARD = 1;
    static final byte SNAP_HEADER = 2;
    /** length + crc + type. */
    static final int RECORD_HEADER_BYTES = 9;
    static final int META_PAYLOAD_BYTES = 24;
    static final int ENTRY_FIXED_BYTES = 20;
    static final int HARD_STATE_PAYLOAD_BYTES = 24;
    static final int SNAPSHOT_PAYLOAD_BYTES = 17;
    private static final int BUFFER_BYTES = 1 << 20;
    /** How far ahead of the last record the segment being written is zero-filled. */
    static final long PREALLOCATE_CHUNK_BYTES = 4L << 20;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 << 10).asReadOnlyBuffer();
    private static final Pattern SEGMENT_NAME = Pattern.compile("([0-9a-f]{16})-([0-9a-f]{16})\\.wal");
    private static final String TMP_SUFFIX = ".tmp";
    private static final String LOCK_FILE = "LOCK";

    private record Segment(long seq, long firstIndex, Path path) {}

    /** How far a segment is good, and (last segment only) what is wrong right after that, or null. */
    private record Scan(long goodEnd, String damage) {}

    private final Path dir;
    private final long segmentSizeBytes;
    /** Holds the directory's lock; closing it releases the lock. */
    private final FileChannel lockChannel;
    private final ArrayDeque<Segment> segments = new ArrayDeque<>(); // oldest first; the last is written to
    private final ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER_BYTES);
    /** A second view of {@link #buf}, to feed record bytes to the CRC without allocating. */
    private final ByteBuffer crcView = buf.duplicate();
    private final CRC32C crc = new CRC32C();
    private final LogState state;
    private WalRecovered recovered;
    private WalHardState hardState;
    private FileChannel channel;
    /** Bytes of the current segment, including those still in {@link #buf}. */
    private long segmentBytes;
    private volatile long recordBytesWritten; // written under the lock, read without it
    /** Length of the current segment's file: its records, then zeros (see preallocation). */
    private long allocatedBytes;
    /** Bytes of all segments but the current one. */
    private long olderSegmentsBytes;
    private boolean closed;
    private IOException failure;

    /** Opens (creating if needed) the WAL in {@code dir} with 64 MiB segments. */
    public static Wal open(Path dir) throws IOException {
        return open(dir, DEFAULT_SEGMENT_SIZE_BYTES);
    }

    /**
     * Opens (creating if needed) the WAL in {@code dir}, recovering its content and repairing a torn or
     * corrupt tail of the last segment; a new segment is started once the current one holds at least
     * {@code segmentSizeBytes}. The directory is locked until {@link #close}.
     */
    public static Wal open(Path dir, long segmentSizeBytes) throws IOException {
        if (segmentSizeBytes <= 0) {
            throw new IllegalArgumentException("segmentSizeBytes must be positive: " + segmentSizeBytes);
        }
        Files.createDirectories(dir);
        FileChannel lockChannel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock = null;
        try {
            try {
                lock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new IOException("wal: " + dir + " is already open (locked)");
            }
            return new Wal(dir, segmentSizeBytes, lockChannel);
        } catch (Throwable t) {
            try {
                lockChannel.close(); // also releases the lock
            } catch (IOException suppressed) {
                t.addSuppressed(suppressed);
            }
            throw t;
        }
    }

    private Wal(Path dir, long segmentSizeBytes, FileChannel lockChannel) throws IOException {
        this.dir = dir;
        this.segmentSizeBytes = segmentSizeBytes;
        this.lockChannel = lockChannel;
        try {
            deleteTmpFiles();
            List<Segment> found = listSegments();
            if (found.isEmpty()) {
                state = new LogState(0, null);
                openNewSegment(new Segment(1, 1, segmentPath(1, 1)));
                recovered = new WalRecovered(null, null, List.of(), false, 0);
                return;
            }
            state = new LogState(found.get(0).firstIndex() - 1, new ArrayList<>());
            long fileBytes = 0;
            Scan scan = null;
            for (int i = 0; i < found.size(); i++) {
                Segment seg = found.get(i);
                boolean isLast = i == found.size() - 1;
                if (i > 0) {
                    Segment prev = found.get(i - 1);
                    if (seg.seq() != prev.seq() + 1) {
                        throw new IOException("wal: segment missing between " + prev.path().getFileName()
                                + " and " + seg.path().getFileName());
                    }
                    if (state.last != seg.firstIndex() - 1) {
                        throw corruption(seg, 0, "segment starts at index " + seg.firstIndex()
                                + " but the segments before it end at index " + state.last);
                    }
                }
                fileBytes = Files.size(seg.path());
                scan = replay(seg, fileBytes, isLast);
                if (!isLast) {
                    olderSegmentsBytes += fileBytes;
                }
                segments.add(seg);
            }
            if (state.base != state.floor()) {
                throw new IOException("wal: entries " + (state.floor() + 1) + ".." + state.base
                        + " are missing: released without a snapshot marker covering them");
            }
            List<WalEntry> entries = Collections.unmodifiableList(state.entries);
            state.entries = null;

            Segment current = segments.getLast();
            long goodEnd = scan.goodEnd();
            String damage = scan.damage();
            if (damage == null && goodEnd < fileBytes && !zerosFrom(current.path(), goodEnd)) {
                damage = "non-zero bytes after the end of the log";
            }
            long truncated = damage == null ? 0 : fileBytes - goodEnd;
            if (damage != null) {
                LOG.log(System.Logger.Level.WARNING,
                        "wal: {0} in last segment {1} at offset {2}: truncated {3} bytes to the last good record",
                        damage, current.path().getFileName(), Long.toString(goodEnd), Long.toString(truncated));
            }
            channel = FileChannel.open(current.path(), StandardOpenOption.WRITE);
            if (truncated > 0) {
                channel.truncate(goodEnd);
                channel.force(true);
            }
            allocatedBytes = fileBytes - truncated; // the zeros after the records, if any, are kept
            if (goodEnd == 0) { // not even the meta record survived: write a fresh head
                writeSegmentHead(current);
                flushBuffer();
                channel.force(false);
            } else {
                channel.position(goodEnd);
                segmentBytes = goodEnd;
            }
            recovered = new WalRecovered(hardState,
                    state.hasSnap ? new WalSnapshotMarker(state.snapIndex, state.snapTerm) : null,
                    entries, damage != null, truncated);
        } catch (Throwable t) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException suppressed) {
                    t.addSuppressed(suppressed);
                }
            }
            throw t;
        }
    }

    /** What {@link #open} recovered (without the entries once {@link #forgetRecoveredEntries} ran). */
    public synchronized WalRecovered recovered() {
        return recovered;
    }

    /** Lets the recovered entries go once the raft log holds them: they may be most of the heap. */
    public synchronized void forgetRecoveredEntries() {
        recovered = new WalRecovered(recovered.hardState(), recovered.snapshot(), List.of(),
                recovered.tailRepaired(), recovered.bytesTruncated());
    }

    /**
     * Writes {@code entries} (in order), then {@code hardState} if not null. Buffered: nothing is durable
     * before {@link #sync}. An entry whose index is at or below an already written one overwrites the log
     * from that index (raft conflict). Each entry's index must be after the snapshot marker and at most
     * one more than the previous last index (a fresh log starts at index 1, or right after a snapshot
     * marker saved first); a batch breaking that is rejected whole with {@link IllegalArgumentException}
     * before anything is written.
     */
    public synchronized void append(List<WalEntry> entries, WalHardState hardState) throws IOException {
        ensureUsable();
        long last = state.last;
        for (WalEntry e : entries) {
            String why = state.checkEntry(e.index(), last);
            if (why != null) {
                throw new IllegalArgumentException("wal: " + why);
            }
            last = e.index();
        }
        try {
            for (WalEntry e : entries) {
                rotateIfFull();
                writeEntry(e);
                state.applyEntry(e);
            }
            if (hardState != null) {
                rotateIfFull();
                writeHardState(hardState);
                this.hardState = hardState;
            }
        } catch (IOException e) {
            throw fail(e);
        }
    }

    /**
     * Records that a snapshot at (index, term) was saved elsewhere: recovery then drops entries
     * {@code <= index}. If the log holds a different term at {@code index} (or ends before it), the
     * entries after it belong to a diverged log and are dropped as well; the next entry is then
     * {@code index + 1}. Buffered like {@link #append}. Markers must not go backwards.
     */
    public synchronized void saveSnapshotMarker(WalSnapshotMarker m) throws IOException {
        ensureUsable();
        String why = state.checkMarker(m.index(), m.term());
        if (why != null) {
            throw new IllegalArgumentException("wal: " + why);
        }
        if (state.isCurrentSnapshot(m.index(), m.term())) {
            return;
        }
        boolean discard = state.markerDiscardsSuffix(m.index(), m.term());
        try {
            rotateIfFull();
            writeSnapshotMarker(m.index(), m.term(), discard ? SNAP_DISCARD : SNAP_KEEP);
            state.applyMarker(m.index(), m.term(), discard);
        } catch (IOException e) {
            throw fail(e);
        }
    }

    /** Makes everything written so far durable: writes the buffer and forces the current segment. */
    public synchronized void sync() throws IOException {
        ensureUsable();
        try {
            flushBuffer();
            preallocate();
            channel.force(false);
        } catch (IOException e) {
            throw fail(e);
        }
    }

    /**
     * Deletes, oldest first, whole segments whose live entries are all below {@code index}; the segment
     * being written is always kept. Never releases entries not covered by a saved snapshot marker
     * ({@code index} is capped at the marker's index + 1; without a marker nothing is released). Syncs
     * first, so the marker justifying the release is durable before any file goes.
     */
    public synchronized void releaseBefore(long index) throws IOException {
        ensureUsable();
        if (!state.hasSnap) {
            return;
        }
        long limit = Math.min(index, state.snapIndex + 1);
        try {
            boolean deleted = false;
            while (segments.size() > 1) {
                Segment oldest = segments.removeFirst();
                if (segments.getFirst().firstIndex() > limit) {
                    segments.addFirst(oldest);
                    break;
                }
                if (!deleted) {
                    flushBuffer();
                    channel.force(false);
                    deleted = true;
                }
                long bytes = Files.size(oldest.path());
                Files.delete(oldest.path());
                olderSegmentsBytes -= bytes;
            }
            if (deleted) {
                syncDirectory();
            }
        } catch (IOException e) {
            throw fail(e);
        }
    }

    /** Bytes of the records of all segments, including what is still buffered (not the zero-filled tail). */
    /** Bytes of records written to segments since this log was opened (etcd_disk_wal_write_bytes_total). */
    public long recordBytesWritten() {
        return recordBytesWritten;
    }

    public synchronized long sizeBytes() {
        return olderSegmentsBytes + segmentBytes;
    }

    /** Writes and forces what is buffered (unless the WAL already failed), then releases the directory. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (FileChannel lc = lockChannel; FileChannel ch = channel) {
            if (failure == null) {
                flushBuffer();
                cutPreallocation();
                ch.force(true);
            }
        }
    }

    // ---------------------------------------------------------------- writing

    private void ensureUsable() throws IOException {
        if (closed) {
            throw new IOException("wal: closed");
        }
        if (failure != null) {
            throw new IOException("wal: unusable after an earlier I/O failure", failure);
        }
    }

    private IOException fail(IOException e) {
        failure = e;
        return e;
    }

    private void rotateIfFull() throws IOException {
        if (segmentBytes < segmentSizeBytes) {
            return;
        }
        Segment previous = segments.getLast();
        flushBuffer();
        cutPreallocation();
        channel.force(true);
        channel.close();
        olderSegmentsBytes += segmentBytes;
        long seq = previous.seq() + 1;
        long firstIndex = state.last + 1;
        openNewSegment(new Segment(seq, firstIndex, segmentPath(seq, firstIndex)));
    }

    /** Creates {@code seg} with its head (meta, hard state, snapshot marker) via a forced tmp file + rename. */
    private void openNewSegment(Segment seg) throws IOException {
        Path tmp = seg.path().resolveSibling(seg.path().getFileName() + TMP_SUFFIX);
        channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
        segmentBytes = 0;
        allocatedBytes = 0;
        writeSegmentHead(seg);
        flushBuffer();
        channel.force(false);
        try {
            Files.move(tmp, seg.path(), StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, seg.path());
        }
        syncDirectory();
        segments.add(seg);
    }

    private void writeSegmentHead(Segment seg) throws IOException {
        ByteBuffer b = beginRecord(TYPE_META, META_PAYLOAD_BYTES);
        int start = b.position() - RECORD_HEADER_BYTES;
        b.putInt(MAGIC).putInt(VERSION).putLong(seg.seq()).putLong(seg.firstIndex());
        endRecord(b, start);
        if (hardState != null) {
            writeHardState(hardState);
        }
        if (state.hasSnap) {
            writeSnapshotMarker(state.snapIndex, state.snapTerm, SNAP_HEADER);
        }
    }

    private void writeEntry(WalEntry e) throws IOException {
        byte[] data = e.data() == null ? new byte[0] : e.data();
        if (data.length > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("wal: entry " + e.index() + " is too large: " + data.length);
        }
        int payload = ENTRY_FIXED_BYTES + data.length;
        ByteBuffer b = beginRecord(TYPE_ENTRY, payload);
        int start = b.position() - RECORD_HEADER_BYTES;
        b.putLong(e.term()).putLong(e.index()).putInt(e.type()).put(data);
        endRecord(b, start);
    }

    private void writeHardState(WalHardState hs) throws IOException {
        ByteBuffer b = beginRecord(TYPE_HARD_STATE, HARD_STATE_PAYLOAD_BYTES);
        int start = b.position() - RECORD_HEADER_BYTES;
        b.putLong(hs.term()).putLong(hs.votedFor()).putLong(hs.commit());
        endRecord(b, start);
    }

    private void writeSnapshotMarker(long index, long term, byte flag) throws IOException {
        ByteBuffer b = beginRecord(TYPE_SNAPSHOT, SNAPSHOT_PAYLOAD_BYTES);
        int start = b.position() - RECORD_HEADER_BYTES;
        b.putLong(index).putLong(term).put(flag);
        endRecord(b, start);
    }

    /**
     * Returns the buffer to put the record into, its header already written (crc still 0): the shared
     * direct buffer, or for a record larger than it a one-off heap buffer that {@link #endRecord} writes
     * straight to the channel.
     */
    private ByteBuffer beginRecord(byte type, int payloadBytes) throws IOException {
        int total = RECORD_HEADER_BYTES + payloadBytes;
        ByteBuffer b;
        if (total > buf.capacity()) {
            flushBuffer();
            b = ByteBuffer.allocate(total);
        } else {
            if (buf.remaining() < total) {
                flushBuffer();
            }
            b = buf;
        }
        b.putInt(1 + payloadBytes).putInt(0).put(type);
        return b;
    }

    private void endRecord(ByteBuffer b, int start) throws IOException {
        int end = b.position();
        crc.reset();
        ByteBuffer view = b == buf ? crcView : b.duplicate();
        view.limit(start + 4).position(start);
        crc.update(view);
        view.limit(end).position(start + 8);
        crc.update(view);
        b.putInt(start + 4, (int) crc.getValue());
        segmentBytes += end - start;
        if (b != buf) {
            b.flip();
            writeFully(b);
        }
    }

    private void flushBuffer() throws IOException {
        buf.flip();
        try {
            writeFully(buf);
        } finally {
            buf.clear();
        }
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            recordBytesWritten += channel.write(b);
        }
        allocatedBytes = Math.max(allocatedBytes, channel.position());
    }

    /**
     * Once the records reach the zero-filled part's end, zero-fills the next chunk (never past the
     * segment size: the segment is cut there). The fsync that follows pays for the new blocks once.
     */
    private void preallocate() throws IOException {
        long end = channel.position();
        if (end < allocatedBytes || end >= segmentSizeBytes) {
            return;
        }
        long target = Math.min(end + PREALLOCATE_CHUNK_BYTES, segmentSizeBytes);
        ByteBuffer zeros = ZEROS.duplicate();
        for (long at = end; at < target; ) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), target - at));
            at += channel.write(zeros, at);
        }
        allocatedBytes = target;
    }

    /** Drops the zeros after the records (a closed or full segment ends with its last record). */
    private void cutPreallocation() throws IOException {
        long end = channel.position();
        if (allocatedBytes > end) {
            channel.truncate(end);
            allocatedBytes = end;
        }
    }

    private void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            if (!System.getProperty("os.name", "").startsWith("Windows")) {
                throw e; // directories cannot be opened for fsync on Windows; everywhere else this is real
            }
        }
    }

    // ---------------------------------------------------------------- recovery

    /**
     * Replays one segment into {@link #state} / {@link #hardState}. Damage (a torn or corrupt record) is
     * reported in the result for the last segment and thrown for any other.
     */
    private Scan replay(Segment seg, long fileBytes, boolean isLast) throws IOException {
        try (InputStream raw = Files.newInputStream(seg.path());
             DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 16))) {
            byte[] header = new byte[RECORD_HEADER_BYTES];
            long offset = 0;
            while (offset < fileBytes) {
                String damage = null;
                byte[] payload = null;
                if (fileBytes - offset < RECORD_HEADER_BYTES) {
                    byte[] tail = in.readNBytes((int) (fileBytes - offset));
                    if (isLast && offset > 0 && isZero(tail)) {
                        // preallocation stops at the segment size: fewer zeros than a header can end the log
                        return new Scan(offset, null);
                    }
                    damage = "torn record header";
                } else {
                    in.readFully(header);
                    int length = ByteBuffer.wrap(header).getInt(0);
                    if (isLast && offset > 0 && isZero(header)) {
                        return new Scan(offset, null); // the end of the log: zeros (preallocated) follow
                    }
                    if (length < 1) {
                        damage = "invalid record length " + length;
                    } else if (length > fileBytes - offset - 8) {
                        damage = "torn record (length " + length + " runs past the end of the file)";
                    } else {
                        payload = new byte[length - 1];
                        in.readFully(payload);
                        crc.reset();
                        crc.update(header, 0, 4);
                        crc.update(header[8]);
                        crc.update(payload);
                        if ((int) crc.getValue() != ByteBuffer.wrap(header).getInt(4)) {
                            damage = "crc mismatch";
                        }
                    }
                }
                if (damage != null) {
                    if (!isLast) {
                        throw corruption(seg, offset, damage);
                    }
                    return new Scan(offset, damage);
                }
                applyRecord(seg, offset, header[8], ByteBuffer.wrap(payload));
                offset += RECORD_HEADER_BYTES + payload.length;
            }
            if (offset == 0 && !isLast) {
                throw corruption(seg, 0, "empty segment");
            }
            return new Scan(offset, null);
        } catch (EOFException e) { // the file shrank while we read it
            throw new IOException("wal: segment " + seg.path().getFileName() + " shrank while being read", e);
        }
    }

    private static boolean isZero(byte[] bytes) {
        for (byte b : bytes) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** Whether the file holds only zeros from {@code offset} to its end. */
    private static boolean zerosFrom(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(64 << 10);
            long at = offset;
            while (true) {
                b.clear();
                int n = ch.read(b, at);
                if (n < 0) {
                    return true;
                }
                for (int i = 0; i < n; i++) {
                    if (b.get(i) != 0) {
                        return false;
                    }
                }
                at += n;
            }
        }
    }

    private void applyRecord(Segment seg, long offset, byte type, ByteBuffer p) throws IOException {
        if (offset == 0 || type == TYPE_META) {
            if (offset != 0 || type != TYPE_META || p.remaining() != META_PAYLOAD_BYTES) {
                throw corruption(seg, offset, "a segment must start with exactly one meta record");
            }
            int magic = p.getInt();
            int version = p.getInt();
            long seq = p.getLong();
            long firstIndex = p.getLong();
            if (magic != MAGIC || version != VERSION) {
                throw corruption(seg, offset, "not a vetcd wal segment (magic " + Integer.toHexString(magic)
                        + ", version " + version + ")");
            }
            if (seq != seg.seq() || firstIndex != seg.firstIndex()) {
                throw corruption(seg, offset, "meta record names segment " + seq + "/" + firstIndex);
            }
            return;
        }
        switch (type) {
            case TYPE_ENTRY -> {
                if (p.remaining() < ENTRY_FIXED_BYTES) {
                    throw corruption(seg, offset, "short entry record");
                }
                long term = p.getLong();
                long index = p.getLong();
                int entryType = p.getInt();
                byte[] data = new byte[p.remaining()];
                p.get(data);
                String why = state.checkEntry(index, state.last);
                if (why != null) {
                    throw corruption(seg, offset, why);
                }
                state.applyEntry(new WalEntry(term, index, entryType, data));
            }
            case TYPE_HARD_STATE -> {
                if (p.remaining() != HARD_STATE_PAYLOAD_BYTES) {
                    throw corruption(seg, offset, "bad hard state record");
                }
                hardState = new WalHardState(p.getLong(), p.getLong(), p.getLong());
            }
            case TYPE_SNAPSHOT -> {
                if (p.remaining() != SNAPSHOT_PAYLOAD_BYTES) {
                    throw corruption(seg, offset, "bad snapshot marker record");
                }
                long index = p.getLong();
                long term = p.getLong();
                byte flag = p.get();
                if (flag == SNAP_HEADER) {
                    state.applyHeaderMarker(index, term);
                } else if (flag == SNAP_KEEP || flag == SNAP_DISCARD) {
                    String why = state.checkMarker(index, term);
                    if (why != null) {
                        throw corruption(seg, offset, why);
                    }
                    state.applyMarker(index, term, flag == SNAP_DISCARD);
                } else {
                    throw corruption(seg, offset, "bad snapshot marker flag " + flag);
                }
            }
            default -> throw corruption(seg, offset, "unknown record type " + type);
        }
    }

    private static IOException corruption(Segment seg, long offset, String what) {
        return new IOException("wal: corruption at segment " + seg.path().getFileName() + " offset " + offset
                + ": " + what);
    }

    private void deleteTmpFiles() throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.wal" + TMP_SUFFIX)) {
            for (Path p : ds) {
                Files.delete(p);
            }
        }
    }

    private List<Segment> listSegments() throws IOException {
        List<Segment> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.wal")) {
            for (Path p : ds) {
                Matcher m = SEGMENT_NAME.matcher(p.getFileName().toString());
                if (m.matches()) {
                    found.add(new Segment(Long.parseUnsignedLong(m.group(1), 16),
                            Long.parseUnsignedLong(m.group(2), 16), p));
                }
            }
        }
        found.sort((a, b) -> Long.compare(a.seq(), b.seq()));
        return found;
    }

    private Path segmentPath(long seq, long firstIndex) {
        return dir.resolve(String.format("%016x-%016x.wal", seq, firstIndex));
    }
}
