package io.vetcd.raft;

/** A state-machine snapshot as of {@code index} (of term {@code term}) with the membership at that point. */
public record Snapshot(long index, long term, ConfState confState, byte[] data) {
    public Snapshot {
        if (confState == null) throw new IllegalArgumentException("confState");
        if (data == null) data = new byte[0];
    }
}
