package io.vetcd.raft;

import java.util.List;

/** Cluster membership: voting members and non-voting learners (immutable lists). */
public record ConfState(List<Long> voters, List<Long> learners) {
    public ConfState {
        voters = List.copyOf(voters);
        learners = List.copyOf(learners);
    }
}
