package io.vetcd.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * Node configuration (plain mutable fields). {@code voters}/{@code learners} are the initial membership,
 * used only when starting without a persisted snapshot. {@code appliedIndex} is the index the
 * application's state machine has already applied (durably); committed entries are delivered from
 * appliedIndex+1 on.
 */
public final class RaftConfig {
    public long id;
    public List<Long> voters = new ArrayList<>();
    public List<Long> learners = new ArrayList<>();
    public int electionTimeoutTicks = 10;
    public int heartbeatTicks = 1;
    public boolean preVote = true;
    public boolean checkQuorum = true;
    public int maxInflightMessages = 256;
    public long maxMessageBytes = 1 << 20;
    public int maxUncommittedEntries = 10_000;
    /**
     * Once the log's entries hold more data than this, the data of entries that are applied (and, on a
     * leader, held by every follower) is dropped from memory, all but the newest half of this; a member
     * that later needs them gets a snapshot. Entries stay in the WAL until the next snapshot either way.
     */
    public long maxRetainedEntryBytes = 64L << 20;
    public long randomSeed;
    public long appliedIndex;

    public RaftConfig() {}

    public RaftConfig(long id, List<Long> voters) {
        this.id = id;
        this.voters = new ArrayList<>(voters);
    }

    void validate() {
        if (id == 0) throw new IllegalArgumentException("id must be non-zero");
        if (heartbeatTicks <= 0) throw new IllegalArgumentException("heartbeatTicks must be > 0");
        if (electionTimeoutTicks <= heartbeatTicks) throw new IllegalArgumentException("electionTimeoutTicks must be > heartbeatTicks");
        if (maxInflightMessages <= 0) throw new IllegalArgumentException("maxInflightMessages must be > 0");
        if (maxUncommittedEntries <= 0) throw new IllegalArgumentException("maxUncommittedEntries must be > 0");
        if (maxRetainedEntryBytes <= 0) throw new IllegalArgumentException("maxRetainedEntryBytes must be > 0");
        if (appliedIndex < 0) throw new IllegalArgumentException("appliedIndex must be >= 0");
    }
}
