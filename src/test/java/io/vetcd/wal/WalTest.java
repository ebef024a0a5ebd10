package io.vetcd.wal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalTest {
    private static final long SMALL_SEGMENT_BYTES = 512;

    @TempDir
    Path tmp;

    // ---------------------------------------------------------------- helpers

    static WalEntry entry(long term, long index) {
        return new WalEntry(term, index, (int) (index % 3), ("e" + index + "-t" + term).getBytes(StandardCharsets.UTF_8));
    }

    static List<WalEntry> entries(long term, long from, long toInclusive) {
        List<WalEntry> out = new ArrayList<>();
        for (long i = from; i <= toInclusive; i++) {
            out.add(entry(term, i));
        }
        return out;
    }

    static void assertEntries(List<WalEntry> expected, List<WalEntry> actual) {
        assertEquals(expected.size(), actual.size(), () -> "entry count; actual indexes " + indexes(actual));
        for (int i = 0; i < expected.size(); i++) {
            WalEntry e = expected.get(i);
            WalEntry a = actual.get(i);
            assertEquals(e.index(), a.index(), "index at " + i);
            assertEquals(e.term(), a.term(), "term of " + e.index());
            assertEquals(e.type(), a.type(), "type of " + e.index());
            assertArrayEquals(e.data() == null ? new byte[0] : e.data(), a.data(), "data of " + e.index());
        }
    }

    static List<Long> indexes(List<WalEntry> es) {
        return es.stream().map(WalEntry::index).toList();
    }

    static List<Path> segmentFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".wal")).sorted().toList();
        }
    }

    /** A copy of the WAL's segment files (not its lock) in a fresh directory. */
    Path copyOf(Path dir, String name) throws IOException {
        Path copy = Files.createDirectories(tmp.resolve(name));
        for (Path p : segmentFiles(dir)) {
            Files.copy(p, copy.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        return copy;
    }

    /** Flips bits of one byte in place (rewriting the whole file would be much slower on ext4). */
    static void flipByte(Path file, long offset) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
            ch.read(one, offset);
            one.put(0, (byte) (one.get(0) ^ 0x5a)).rewind();
            ch.write(one, offset);
        }
    }

    static void truncate(Path file, long size) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    /** A copy of a WAL as a crash (kill -9, power loss) leaves it, and the bytes of its records. */
    record Crashed(Path dir, long recordBytes) {}

    /** Writes entries 1..5 (and {@code hardState} if not null) into {@code dir}, syncs, copies, closes. */
    Crashed crashAfterFiveEntries(Path dir, WalHardState hardState) throws IOException {
        try (Wal wal = Wal.open(dir)) {
            wal.append(entries(1, 1, 5), hardState);
            wal.sync();
            return new Crashed(copyOf(dir, "crashed"), wal.sizeBytes());
        }
    }

    // ---------------------------------------------------------------- tests

    @Test
    void when_a_member_crashes_then_the_zero_filled_tail_is_the_end_of_the_log_not_damage() throws IOException {
        Path dir = tmp.resolve("w");
        Crashed crash = crashAfterFiveEntries(dir, new WalHardState(1, 1, 5));
        Path crashed = crash.dir();
        long written = crash.recordBytes();
        Path segment = segmentFiles(crashed).get(0);
        assertTrue(Files.size(segment) > written, "the synced segment is zero-filled ahead of its records");
        try (Wal wal = Wal.open(crashed)) {
            assertFalse(wal.recovered().tailRepaired());
            assertEquals(0, wal.recovered().bytesTruncated());
            assertEntries(entries(1, 1, 5), wal.recovered().entries());
            assertEquals(new WalHardState(1, 1, 5), wal.recovered().hardState());
            wal.append(entries(1, 6, 8), new WalHardState(1, 1, 8)); // written over the zeros
            wal.sync();
            crashed = copyOf(crashed, "crashed-again");
        }
        try (Wal wal = Wal.open(crashed)) {
            assertFalse(wal.recovered().tailRepaired());
            assertEntries(entries(1, 1, 8), wal.recovered().entries());
            assertEquals(new WalHardState(1, 1, 8), wal.recovered().hardState());
        }
        // A clean close leaves each segment ending with its last record.
        assertEquals(written, Files.size(segmentFiles(dir).get(0)));
    }

    @Test
    void when_fewer_zeros_than_a_record_header_end_the_last_segment_then_that_is_the_end_of_the_log() throws IOException {
        // The zero fill stops at the segment size, so a segment nearly full when the member died ends
        // with its last record and a few zeros.
        Crashed crash = crashAfterFiveEntries(tmp.resolve("w"), new WalHardState(1, 1, 5));
        Path crashed = crash.dir();
        long written = crash.recordBytes();
        Path segment = segmentFiles(crashed).get(0);
        for (long zeros = 1; zeros < 9; zeros++) {
            truncate(segment, written + zeros);
            Path copy = copyOf(crashed, "crashed-" + zeros);
            try (Wal wal = Wal.open(copy)) {
                assertFalse(wal.recovered().tailRepaired(), zeros + " zeros");
                assertEquals(0, wal.recovered().bytesTruncated());
                assertEntries(entries(1, 1, 5), wal.recovered().entries());
            }
        }
        // Fewer bytes than a header that are not all zeros are still a torn record.
        truncate(segment, written);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(segment,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0, 0, 7}), written);
        }
        try (Wal wal = Wal.open(crashed)) {
            assertTrue(wal.recovered().tailRepaired());
            assertEquals(3, wal.recovered().bytesTruncated());
            assertEntries(entries(1, 1, 5), wal.recovered().entries());
        }
    }

    @Test
    void when_bytes_follow_the_zero_header_that_ends_the_log_then_they_are_truncated_as_damage() throws IOException {
        Crashed crash = crashAfterFiveEntries(tmp.resolve("w"), null);
        Path crashed = crash.dir();
        long written = crash.recordBytes();
        Path segment = segmentFiles(crashed).get(0);
        long fileBytes = Files.size(segment);
        flipByte(segment, written + 100); // e.g. the later sector of a record whose first one was lost
        try (Wal wal = Wal.open(crashed)) {
            assertTrue(wal.recovered().tailRepaired());
            assertEquals(fileBytes - written, wal.recovered().bytesTruncated());
            assertEntries(entries(1, 1, 5), wal.recovered().entries());
        }
        assertEquals(written, Files.size(segment));
    }

    @Test
    void when_segments_are_cut_then_each_full_segment_ends_with_its_last_record() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) {
            for (long i = 1; i <= 40; i++) {
                wal.append(entries(1, i, i), new WalHardState(1, 1, i - 1));
                wal.sync();
            }
            assertTrue(segmentFiles(dir).size() > 3, "segments: " + segmentFiles(dir).size());
            // Zeros after the records of any segment but the last would be corruption on open.
            Path crashed = copyOf(dir, "crashed");
            try (Wal copy = Wal.open(crashed, SMALL_SEGMENT_BYTES)) {
                assertFalse(copy.recovered().tailRepaired());
                assertEntries(entries(1, 1, 40), copy.recovered().entries());
            }
        }
    }

    @Test
    void when_fresh_then_recovers_nothing() throws IOException {
        try (Wal wal = Wal.open(tmp.resolve("w"))) {
            WalRecovered r = wal.recovered();
            assertNull(r.hardState());
            assertNull(r.snapshot());
            assertTrue(r.entries().isEmpty());
            assertFalse(r.tailRepaired());
            assertEquals(0, r.bytesTruncated());
            assertEquals(Files.size(segmentFiles(tmp.resolve("w")).get(0)), wal.sizeBytes());
        }
        assertEquals(List.of("0000000000000001-0000000000000001.wal"),
                segmentFiles(tmp.resolve("w")).stream().map(p -> p.getFileName().toString()).toList());
    }

    @Test
    void when_entries_and_hard_state_written_then_reopen_returns_them() throws IOException {
        Path dir = tmp.resolve("w");
        List<WalEntry> written = new ArrayList<>(entries(1, 1, 10));
        written.add(new WalEntry(2, 11, 7, null)); // null data comes back empty
        written.add(new WalEntry(2, 12, 0, new byte[0]));
        try (Wal wal = Wal.open(dir)) {
            wal.append(written.subList(0, 5), new WalHardState(1, 3, 2));
            wal.append(written.subList(5, written.size()), new WalHardState(2, 0, 9));
            wal.sync();
        }
        try (Wal wal = Wal.open(dir)) {
            WalRecovered r = wal.recovered();
            assertEntries(written, r.entries());
            assertEquals(new WalHardState(2, 0, 9), r.hardState());
            assertNull(r.snapshot());
            assertFalse(r.tailRepaired());
        }
    }

    @Test
    void when_restarted_several_times_then_latest_hard_state_and_all_entries_survive() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir)) {
            wal.append(entries(1, 1, 3), new WalHardState(1, 1, 1));
        }
        try (Wal wal = Wal.open(dir)) {
            assertEntries(entries(1, 1, 3), wal.recovered().entries());
            wal.append(List.of(), new WalHardState(2, 2, 3)); // hard state alone
        }
        try (Wal wal = Wal.open(dir)) {
            assertEquals(new WalHardState(2, 2, 3), wal.recovered().hardState());
            wal.append(entries(2, 4, 5), null); // entries alone keep the hard state
        }
        try (Wal wal = Wal.open(dir)) {
            assertEquals(new WalHardState(2, 2, 3), wal.recovered().hardState());
            List<WalEntry> expected = new ArrayList<>(entries(1, 1, 3));
            expected.addAll(entries(2, 4, 5));
            assertEntries(expected, wal.recovered().entries());
        }
    }

    @Test
    void when_an_index_is_rewritten_then_the_later_record_wins_and_the_old_suffix_is_gone() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir)) {
            wal.append(entries(1, 1, 10), null);
            wal.append(entries(2, 6, 8), null);
        }
        List<WalEntry> expected = new ArrayList<>(entries(1, 1, 5));
        expected.addAll(entries(2, 6, 8));
        try (Wal wal = Wal.open(dir)) {
            assertEntries(expected, wal.recovered().entries());
            wal.append(entries(3, 1, 2), null); // rewrite from the very first index
        }
        try (Wal wal = Wal.open(dir)) {
            assertEntries(entries(3, 1, 2), wal.recovered().entries());
        }
    }

    @Test
    void when_a_conflict_crosses_segment_boundaries_then_recovery_resolves_it() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) {
            wal.append(entries(1, 1, 60), null);
            wal.append(entries(2, 20, 70), null);
            wal.append(entries(3, 65, 66), null);
        }
        assertTrue(segmentFiles(dir).size() > 5);
        List<WalEntry> expected = new ArrayList<>(entries(1, 1, 19));
        expected.addAll(entries(2, 20, 64));
        expected.addAll(entries(3, 65, 66));
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) {
            assertEntries(expected, wal.recovered().entries());
        }
    }

    @Test
    void when_a_batch_would_leave_a_gap_then_it_is_rejected_whole() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir)) {
            assertThrows(IllegalArgumentException.class, () -> wal.append(List.of(entry(1, 2)), null)); // log starts at 1
            wal.append(entries(1, 1, 3), null);
            assertThrows(IllegalArgumentException.class,
                    () -> wal.append(List.of(entry(1, 4), entry(1, 5), entry(1, 7)), null));
            wal.saveSnapshotMarker(new WalSnapshotMarker(2, 1));
            assertThrows(IllegalArgumentException.class, () -> wal.append(List.of(entry(2, 2)), null));
            wal.append(entries(1, 4, 4), null); // still usable
        }
        try (Wal wal = Wal.open(dir)) {
            assertEntries(entries(1, 3, 4), wal.recovered().entries());
        }
    }

    @Test
    void when_the_last_record_is_cut_at_every_offset_then_recovery_yields_the_records_before_it() throws IOException {
        Path dir = tmp.resolve("w");
        long recordStart;
        long recordEnd;
        try (Wal wal = Wal.open(dir)) {
            wal.append(entries(1, 1, 4), new WalHardState(1, 1, 4));
            wal.sync();
            recordStart = wal.sizeBytes();
            wal.append(entries(1, 5, 5), null);
            wal.sync();
            recordEnd = wal.sizeBytes();
        }
        Path segment = segmentFiles(dir).get(0);
        assertEquals(recordEnd, Files.size(segment));
        byte[] bytes = Files.readAllBytes(segment);
        for (long cut = recordStart; cut <= recordEnd; cut++) {
            Path copy = copyOf(dir, "cut" + cut);
            truncate(copy.resolve(segment.getFileName()), cut);
            // A cut inside the record's length field can leave only zero bytes: the same bytes as the
            // zero fill that ends a log, so they end it without a repair (nothing synced is lost).
            boolean onlyZerosLeft = cut > recordStart && cut < recordEnd
                && java.util.stream.IntStream.range((int) recordStart, (int) cut).allMatch(i -> bytes[i] == 0);
            boolean torn = cut > recordStart && cut < recordEnd && !onlyZerosLeft;
            try (Wal wal = Wal.open(copy)) {
                WalRecovered r = wal.recovered();
                long c = cut;
                assertEntries(cut == recordEnd ? entries(1, 1, 5) : entries(1, 1, 4), r.entries());
                assertEquals(new WalHardState(1, 1, 4), r.hardState());
                assertEquals(torn, r.tailRepaired(), () -> "cut at " + c);
                assertEquals(torn ? cut - recordStart : 0, r.bytesTruncated(), () -> "cut at " + c);
                assertEquals(torn ? recordStart : cut, Files.size(copy.resolve(segment.getFileName())));
            }
        }
    }

    @Test
    void when_any_byte_of_the_last_record_is_flipped_then_that_record_is_truncated() throws IOException {
        Path dir = tmp.resolve("w");
        long recordStart;
        long recordEnd;
        try (Wal wal = Wal.open(dir)) {
            wal.append(entries(1, 1, 4), null);
            recordStart = wal.sizeBytes();
            wal.append(entries(1, 5, 5), null);
            recordEnd = wal.sizeBytes();
        }
        Path segment = segmentFiles(dir).get(0);
        for (long at = recordStart; at < recordEnd; at++) {
            Path copy = copyOf(dir, "flip" + at);
            flipByte(copy.resolve(segment.getFileName()), at);
            try (Wal wal = Wal.open(copy)) {
                WalRecovered r = wal.recovered();
                long a = at;
                assertEntries(entries(1, 1, 4), r.entries());
                assertTrue(r.tailRepaired(), () -> "flip at " + a);
                assertEquals(recordEnd - recordStart, r.bytesTruncated(), () -> "flip at " + a);
            }
        }
    }

    @Test
    void when_a_byte_in_an_earlier_segment_is_flipped_then_open_fails_loudly() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) {
            for (long i = 1; i <= 60; i++) {
                wal.append(entries(1, i, i), new WalHardState(1, 1, i - 1));
            }
        }
        List<Path> segments = segmentFiles(dir);
        assertTrue(segments.size() >= 4, "segments: " + segments.size());
        for (Path victim : List.of(segments.get(0), segments.get(segments.size() / 2), segments.get(segments.size() - 2))) {
            long size = Files.size(victim);
            for (long at = 0; at < size; at++) {
                flipByte(victim, at);
                IOException e = assertThrows(IOException.class, () -> Wal.open(dir, SMALL_SEGMENT_BYTES).close(),
                        "flip at " + victim.getFileName() + " offset " + at);
                assertTrue(e.getMessage().startsWith("wal: corruption at segment " + victim.getFileName() + " offset "),
                        e.getMessage());
                flipByte(victim, at); // flips back: a failed open changes no segment
            }
        }
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) { // and the undamaged log still opens cleanly
            assertEntries(entries(1, 1, 60), wal.recovered().entries());
            assertFalse(wal.recovered().tailRepaired());
        }
    }

    @Test
    void when_an_earlier_segment_lost_its_tail_then_open_fails_loudly() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) {
            wal.append(entries(1, 1, 40), null);
        }
        Path first = segmentFiles(dir).get(0);
        truncate(first, Files.size(first) - 3);
        IOException e = assertThrows(IOException.class, () -> Wal.open(dir, SMALL_SEGMENT_BYTES).close());
        assertTrue(e.getMessage().contains("corruption at segment " + first.getFileName()), e.getMessage());
    }

    @Test
    void when_a_middle_segment_is_missing_then_open_fails() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) {
            wal.append(entries(1, 1, 40), null);
        }
        List<Path> segments = segmentFiles(dir);
        Files.delete(segments.get(1));
        IOException e = assertThrows(IOException.class, () -> Wal.open(dir, SMALL_SEGMENT_BYTES).close());
        assertTrue(e.getMessage().contains("segment missing"), e.getMessage());
    }

    @Test
    void when_segments_rotate_then_release_before_deletes_only_segments_covered_by_the_snapshot() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) {
            for (long i = 1; i <= 200; i += 10) {
                wal.append(entries(1, i, i + 9), new WalHardState(1, 2, i));
            }
            wal.append(List.of(), new WalHardState(4, 2, 190));
            wal.sync();
            List<Path> before = segmentFiles(dir);
            assertTrue(before.size() > 10, "segments: " + before.size());
            // the segment in use is zero-filled after its last record (a hard state ending in 190)
            assertEquals(sum(before.subList(0, before.size() - 1)) + bytesBeforeTrailingZeros(before.get(before.size() - 1)),
                    wal.sizeBytes());
            for (Path p : before) { // every segment but the current one was cut at the size limit
                if (!p.equals(before.get(before.size() - 1))) {
                    assertTrue(Files.size(p) >= SMALL_SEGMENT_BYTES);
                }
            }

            wal.releaseBefore(150); // no snapshot marker yet: nothing is released
            assertEquals(before, segmentFiles(dir));

            wal.saveSnapshotMarker(new WalSnapshotMarker(150, 1));
            wal.releaseBefore(1_000); // capped at the marker: entries 151.. must stay
            List<Path> after = segmentFiles(dir);
            assertTrue(after.size() < before.size());
            assertEquals(before.subList(before.size() - after.size(), before.size()), after);
            assertTrue(firstIndexOf(after.get(0)) <= 151, after.get(0).toString());
            assertTrue(after.size() == 1 || firstIndexOf(after.get(1)) > 151, after.toString());
            wal.sync();
            assertEquals(sum(after), wal.sizeBytes());
        }
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) {
            WalRecovered r = wal.recovered();
            assertEquals(new WalSnapshotMarker(150, 1), r.snapshot());
            assertEquals(new WalHardState(4, 2, 190), r.hardState());
            assertEntries(entries(1, 151, 200), r.entries());
            wal.append(entries(2, 201, 230), null);
            wal.saveSnapshotMarker(new WalSnapshotMarker(229, 2));
            wal.releaseBefore(230);
            assertEquals(1, segmentFiles(dir).size()); // only the segment in use is left
        }
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) {
            WalRecovered r = wal.recovered();
            assertEquals(new WalSnapshotMarker(229, 2), r.snapshot());
            assertEquals(new WalHardState(4, 2, 190), r.hardState());
            assertEntries(entries(2, 230, 230), r.entries());
        }
    }

    @Test
    void when_release_deletes_the_segments_that_held_the_marker_and_hard_state_then_segment_heads_keep_them()
            throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir, 1)) { // every record starts a new segment
            wal.append(entries(1, 1, 5), new WalHardState(1, 1, 5));
            wal.saveSnapshotMarker(new WalSnapshotMarker(5, 1));
            wal.append(entries(1, 6, 6), null);
            assertEquals(9, segmentFiles(dir).size()); // first (empty), 5 entries, hard state, marker, entry 6
            wal.releaseBefore(6);
            assertEquals(List.of("0000000000000009-0000000000000006.wal"),
                    segmentFiles(dir).stream().map(p -> p.getFileName().toString()).toList());
        }
        try (Wal wal = Wal.open(dir, 1)) {
            WalRecovered r = wal.recovered();
            assertEquals(new WalSnapshotMarker(5, 1), r.snapshot());
            assertEquals(new WalHardState(1, 1, 5), r.hardState());
            assertEntries(entries(1, 6, 6), r.entries());
        }
    }

    private static long bytesBeforeTrailingZeros(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] == 0) {
            end--;
        }
        return end;
    }

    private static long sum(List<Path> files) throws IOException {
        long total = 0;
        for (Path p : files) {
            total += Files.size(p);
        }
        return total;
    }

    private static long firstIndexOf(Path segment) {
        String name = segment.getFileName().toString();
        return Long.parseLong(name.substring(17, 33), 16);
    }

    @Test
    void when_a_snapshot_marker_is_saved_then_recovery_drops_entries_up_to_it() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir)) {
            wal.append(entries(1, 1, 10), new WalHardState(1, 1, 10));
            wal.saveSnapshotMarker(new WalSnapshotMarker(5, 1));
            wal.saveSnapshotMarker(new WalSnapshotMarker(5, 1)); // repeating it is harmless
        }
        try (Wal wal = Wal.open(dir)) {
            WalRecovered r = wal.recovered();
            assertEquals(new WalSnapshotMarker(5, 1), r.snapshot());
            assertEntries(entries(1, 6, 10), r.entries());
            assertThrows(IllegalArgumentException.class, () -> wal.saveSnapshotMarker(new WalSnapshotMarker(4, 1)));
            assertThrows(IllegalArgumentException.class, () -> wal.saveSnapshotMarker(new WalSnapshotMarker(5, 2)));
            wal.saveSnapshotMarker(new WalSnapshotMarker(10, 1));
        }
        try (Wal wal = Wal.open(dir)) {
            assertEquals(new WalSnapshotMarker(10, 1), wal.recovered().snapshot());
            assertTrue(wal.recovered().entries().isEmpty());
            wal.append(entries(2, 11, 12), null);
        }
        try (Wal wal = Wal.open(dir)) {
            assertEntries(entries(2, 11, 12), wal.recovered().entries());
        }
    }

    @Test
    void when_the_snapshot_term_differs_from_the_log_then_the_diverged_suffix_is_dropped() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir)) {
            wal.append(entries(1, 1, 10), null);
            wal.saveSnapshotMarker(new WalSnapshotMarker(7, 3)); // the leader's snapshot: our 7 is from term 1
            assertThrows(IllegalArgumentException.class, () -> wal.append(List.of(entry(3, 9)), null));
        }
        try (Wal wal = Wal.open(dir)) {
            assertEquals(new WalSnapshotMarker(7, 3), wal.recovered().snapshot());
            assertTrue(wal.recovered().entries().isEmpty());
            wal.append(entries(3, 8, 9), null);
        }
        try (Wal wal = Wal.open(dir)) {
            assertEntries(entries(3, 8, 9), wal.recovered().entries());
        }
    }

    @Test
    void when_the_snapshot_is_beyond_the_log_then_the_log_restarts_after_it() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir)) {
            wal.append(entries(1, 1, 10), null);
            wal.saveSnapshotMarker(new WalSnapshotMarker(100, 4));
            wal.append(entries(4, 101, 102), new WalHardState(4, 0, 101));
        }
        try (Wal wal = Wal.open(dir)) {
            assertEquals(new WalSnapshotMarker(100, 4), wal.recovered().snapshot());
            assertEntries(entries(4, 101, 102), wal.recovered().entries());
        }
    }

    @Test
    void when_reopened_after_a_repair_then_appends_continue_and_the_next_open_is_clean() throws IOException {
        Path dir = tmp.resolve("w");
        long recordStart;
        try (Wal wal = Wal.open(dir)) {
            wal.append(entries(1, 1, 4), new WalHardState(1, 1, 3));
            recordStart = wal.sizeBytes();
            wal.append(entries(1, 5, 5), null);
        }
        Path segment = segmentFiles(dir).get(0);
        truncate(segment, recordStart + 7);
        try (Wal wal = Wal.open(dir)) {
            assertTrue(wal.recovered().tailRepaired());
            assertEquals(7, wal.recovered().bytesTruncated());
            assertEntries(entries(1, 1, 4), wal.recovered().entries());
            wal.append(entries(2, 5, 6), new WalHardState(2, 1, 5));
            wal.sync();
        }
        try (Wal wal = Wal.open(dir)) {
            WalRecovered r = wal.recovered();
            assertFalse(r.tailRepaired());
            assertEquals(0, r.bytesTruncated());
            List<WalEntry> expected = new ArrayList<>(entries(1, 1, 4));
            expected.addAll(entries(2, 5, 6));
            assertEntries(expected, r.entries());
            assertEquals(new WalHardState(2, 1, 5), r.hardState());
        }
    }

    @Test
    void when_the_head_of_the_last_segment_is_corrupt_then_the_segment_is_emptied_and_rewritten() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) {
            wal.append(entries(1, 1, 30), new WalHardState(1, 1, 20));
        }
        List<Path> segments = segmentFiles(dir);
        Path last = segments.get(segments.size() - 1);
        long lastFirst = firstIndexOf(last);
        long lastSize = Files.size(last);
        flipByte(last, 2);
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) {
            WalRecovered r = wal.recovered();
            assertTrue(r.tailRepaired());
            assertEquals(lastSize, r.bytesTruncated());
            assertEntries(entries(1, 1, lastFirst - 1), r.entries());
            wal.append(entries(2, lastFirst, lastFirst + 1), null);
        }
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) {
            assertFalse(wal.recovered().tailRepaired());
            List<WalEntry> expected = new ArrayList<>(entries(1, 1, lastFirst - 1));
            expected.addAll(entries(2, lastFirst, lastFirst + 1));
            assertEntries(expected, wal.recovered().entries());
        }
    }

    @Test
    void when_an_entry_is_larger_than_the_write_buffer_then_it_round_trips() throws IOException {
        Path dir = tmp.resolve("w");
        byte[] big = new byte[3 << 20];
        new java.util.Random(7).nextBytes(big);
        List<WalEntry> written = List.of(entry(1, 1), new WalEntry(1, 2, 1, big), entry(1, 3));
        try (Wal wal = Wal.open(dir)) {
            wal.append(written, null);
        }
        try (Wal wal = Wal.open(dir)) {
            assertEntries(written, wal.recovered().entries());
        }
    }

    @Test
    void when_the_directory_is_already_open_then_a_second_open_fails() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir)) {
            IOException e = assertThrows(IOException.class, () -> Wal.open(dir).close());
            assertTrue(e.getMessage().contains("locked"), e.getMessage());
        }
        Wal.open(dir).close(); // released by close
    }

    @Test
    void when_the_process_dies_after_sync_then_everything_synced_is_recovered() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir, SMALL_SEGMENT_BYTES)) {
            wal.append(entries(1, 1, 30), new WalHardState(1, 1, 25));
            wal.sync();
            wal.append(entries(1, 31, 32), new WalHardState(1, 1, 30)); // buffered, never synced
            Path crashed = copyOf(dir, "crashed"); // what a kill -9 leaves on disk
            try (Wal after = Wal.open(crashed, SMALL_SEGMENT_BYTES)) {
                assertEntries(entries(1, 1, 30), after.recovered().entries());
                assertEquals(new WalHardState(1, 1, 25), after.recovered().hardState());
            }
        }
    }

    @Test
    void when_closed_then_writes_fail() throws IOException {
        Wal wal = Wal.open(tmp.resolve("w"));
        wal.close();
        wal.close(); // idempotent
        assertThrows(IOException.class, () -> wal.append(entries(1, 1, 1), null));
        assertThrows(IOException.class, wal::sync);
    }

    @Test
    void when_an_interrupted_rotation_left_a_tmp_file_then_open_ignores_and_removes_it() throws IOException {
        Path dir = tmp.resolve("w");
        try (Wal wal = Wal.open(dir)) {
            wal.append(entries(1, 1, 3), null);
        }
        Path leftover = dir.resolve("0000000000000002-0000000000000004.wal.tmp");
        Files.write(leftover, new byte[] {1, 2, 3});
        try (Wal wal = Wal.open(dir)) {
            assertEntries(entries(1, 1, 3), wal.recovered().entries());
            assertFalse(wal.recovered().tailRepaired());
        }
        assertFalse(Files.exists(leftover));
    }
}
