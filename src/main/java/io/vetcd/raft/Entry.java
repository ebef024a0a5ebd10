package io.vetcd.raft;

/**
 * A replicated log entry. {@code data} is never null (an empty array for the leader's no-op entry).
 * For {@link EntryType#CONF_CHANGE} entries, {@code data} is an encoded {@link ConfChange}.
 */
public record Entry(long term, long index, EntryType type, byte[] data) {
    static final byte[] NO_DATA = new byte[0];

    public Entry {
        if (type == null) type = EntryType.NORMAL;
        if (data == null) data = NO_DATA;
    }

    /** Rough size used for message-size limiting. */
    long approxSize() { return data.length + 24L; }

    @Override public String toString() {
        return "Entry{t=" + term + ",i=" + index + "," + type + ",len=" + data.length + "}";
    }
}
