package io.vetcd.raft;

import java.util.ArrayDeque;

/** Leader-side replication state of one peer (flow control: probe / replicate / snapshot). */
final class Progress {
    enum State { PROBE, REPLICATE, SNAPSHOT }

    long match;
    long next;
    State state = State.PROBE;
    /** In PROBE: an append was sent and we wait for a reply (or heartbeat reply) before sending another. */
    boolean probeSent;
    boolean recentActive;
    boolean learner;
    long pendingSnapshot;
    int snapshotTicks;
    /** Highest read-index heartbeat sequence acknowledged by this peer in the current term. */
    long readAck;
    private final ArrayDeque<Long> inflights = new ArrayDeque<>();
    private final int maxInflight;

    Progress(long next, int maxInflight, boolean learner) {
        this.next = next;
        this.maxInflight = maxInflight;
        this.learner = learner;
    }

    boolean isPaused() {
        return switch (state) {
            case PROBE -> probeSent;
            case REPLICATE -> inflights.size() >= maxInflight;
            case SNAPSHOT -> true;
        };
    }

    boolean inflightFull() { return inflights.size() >= maxInflight; }

    void addInflight(long last) { inflights.addLast(last); }

    void freeFirstInflight() { inflights.pollFirst(); }

    void freeInflightsUpTo(long idx) {
        while (!inflights.isEmpty() && inflights.peekFirst() <= idx) inflights.pollFirst();
    }

    void becomeProbe() {
        if (state == State.SNAPSHOT) {
            long ps = pendingSnapshot;
            next = Math.max(match + 1, ps + 1);
        } else {
            next = match + 1;
        }
        state = State.PROBE;
        probeSent = false;
        pendingSnapshot = 0;
        inflights.clear();
    }

    void becomeReplicate() {
        state = State.REPLICATE;
        next = match + 1;
        probeSent = false;
        pendingSnapshot = 0;
        inflights.clear();
    }

    void becomeSnapshot(long snapIndex) {
        state = State.SNAPSHOT;
        pendingSnapshot = snapIndex;
        snapshotTicks = 0;
        probeSent = false;
        inflights.clear();
    }

    /** Acknowledgement that the peer's log matches up to n. Returns true if match advanced. */
    boolean maybeUpdate(long n) {
        boolean updated = false;
        if (match < n) {
            match = n;
            updated = true;
            probeSent = false;
        }
        next = Math.max(next, n + 1);
        return updated;
    }

    /**
     * A rejection of an append whose previous index was {@code rejected}; {@code probeHint} is the
     * index to retry from. Returns false if the rejection is stale.
     */
    boolean maybeDecrTo(long rejected, long probeHint) {
        if (state == State.REPLICATE) {
            if (rejected <= match) return false;
            next = match + 1;
            return true;
        }
        if (next - 1 != rejected) return false;
        next = Math.max(Math.min(rejected, probeHint + 1), match + 1);
        probeSent = false;
        return true;
    }

    @Override public String toString() {
        return state + "{m=" + match + ",n=" + next + ",paused=" + isPaused() + "}";
    }
}
