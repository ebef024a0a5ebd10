package io.vetcd.raft;

import java.util.List;

/**
 * A Raft peer message. Unused fields are 0 / empty; {@code entries} and {@code context} are never
 * null, {@code snapshot} is null except for {@link MessageType#SNAPSHOT}.
 */
public record Message(MessageType type, long from, long to, long term, long logTerm, long index,
                      List<Entry> entries, long commit, boolean reject, long rejectHint,
                      byte[] context, Snapshot snapshot) {
    public Message {
        if (type == null) throw new IllegalArgumentException("type");
        entries = entries == null ? List.of() : List.copyOf(entries);
        if (context == null) context = new byte[0];
    }

    @Override public String toString() {
        return type + "{" + from + "->" + to + " t=" + term + " lt=" + logTerm + " i=" + index
                + " n=" + entries.size() + " c=" + commit + (reject ? " REJ hint=" + rejectHint : "")
                + (context.length > 0 ? " ctx=" + context.length + "b" : "")
                + (snapshot != null ? " snap@" + snapshot.index() : "") + "}";
    }
}
