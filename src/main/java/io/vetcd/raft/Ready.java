package io.vetcd.raft;

import java.util.List;

/**
 * A batch of work for the application; see {@link RaftNode} for the processing contract.
 * {@code entries}: append to stable storage, first truncating any stored entries with index &gt;= the first
 * one's index. {@code snapshot}: install (and persist) before the entries. {@code committedEntries}:
 * apply in order after persisting. {@code messages}: send after hardState/entries are durable.
 */
public record Ready(SoftState softState, HardState hardState, List<Entry> entries, Snapshot snapshot,
                    List<Entry> committedEntries, List<Message> messages, List<ReadState> readStates) {
    public Ready {
        entries = entries == null ? List.of() : List.copyOf(entries);
        committedEntries = committedEntries == null ? List.of() : List.copyOf(committedEntries);
        messages = messages == null ? List.of() : List.copyOf(messages);
        readStates = readStates == null ? List.of() : List.copyOf(readStates);
    }

    public boolean isEmpty() {
        return softState == null && hardState == null && entries.isEmpty() && snapshot == null
                && committedEntries.isEmpty() && messages.isEmpty() && readStates.isEmpty();
    }
}
