package io.vetcd.raft;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RaftNodeTest {

    private static Message msg(MessageType t, long from, long to, long term) {
        return new Message(t, from, to, term, 0, 0, List.of(), 0, false, 0, null, null);
    }

    private static Message append(long from, long to, long term, long prevIdx, long prevTerm, long commit, Entry... es) {
        return new Message(MessageType.APPEND, from, to, term, prevTerm, prevIdx, List.of(es), commit, false, 0, null, null);
    }

    private static Message vote(MessageType t, long from, long to, long term, long lastIdx, long lastTerm) {
        return new Message(t, from, to, term, lastTerm, lastIdx, List.of(), 0, false, 0, null, null);
    }

    private static Entry e(long term, long index) {
        return new Entry(term, index, EntryType.NORMAL, ("v" + index).getBytes());
    }

    private static List<Entry> log(long... terms) {
        List<Entry> r = new ArrayList<>();
        for (int i = 0; i < terms.length; i++) r.add(e(terms[i], i + 1));
        return r;
    }

    private static RaftNode node(long id, List<Long> voters, HardState hs, List<Entry> entries, boolean preVote, boolean checkQuorum) {
        RaftConfig c = new RaftConfig(id, voters);
        c.preVote = preVote;
        c.checkQuorum = checkQuorum;
        c.randomSeed = 7;
        return RaftNode.start(c, hs, null, entries);
    }

    private static List<Message> drain(RaftNode n) {
        if (!n.hasReady()) return List.of();
        Ready r = n.ready();
        n.advance(r);
        return r.messages();
    }

    // ---------------------------------------------------------------- single node

    @Test
    void single_node_campaign_becomes_leader_immediately_and_appends_noop() {
        RaftNode n = node(1, List.of(1L), null, List.of(), true, true);
        n.campaign();
        assertEquals(Role.LEADER, n.role());
        assertEquals(1, n.term());
        Ready r = n.ready();
        assertEquals(new SoftState(1, Role.LEADER), r.softState());
        assertEquals(1, r.entries().size());
        assertEquals(0, r.entries().get(0).data().length);
        assertEquals(1, r.committedEntries().size());
        assertEquals(new HardState(1, 1, 1), r.hardState());
        n.advance(r);
        assertFalse(n.hasReady());
    }

    @Test
    void single_node_proposal_commits_immediately() {
        RaftNode n = node(1, List.of(1L), null, List.of(), true, true);
        n.campaign();
        n.advance(n.ready());
        n.propose("x".getBytes());
        Ready r = n.ready();
        assertEquals(1, r.entries().size());
        assertEquals(1, r.committedEntries().size());
        assertEquals("x", new String(r.committedEntries().get(0).data()));
        assertEquals(2, r.hardState().commit());
        n.advance(r);
    }

    @Test
    void single_node_read_index_answers_immediately() {
        RaftNode n = node(1, List.of(1L), null, List.of(), true, true);
        n.campaign();
        n.advance(n.ready());
        n.readIndex("r1".getBytes());
        Ready r = n.ready();
        assertEquals(1, r.readStates().size());
        assertEquals(1, r.readStates().get(0).index());
        assertEquals("r1", new String(r.readStates().get(0).requestContext()));
    }

    @Test
    void proposal_without_leader_is_dropped() {
        RaftNode n = node(1, List.of(1L, 2L, 3L), null, List.of(), true, true);
        assertThrows(ProposalDroppedException.class, () -> n.propose("x".getBytes()));
        assertThrows(ProposalDroppedException.class, () -> n.readIndex("x".getBytes()));
    }

    @Test
    void restart_delivers_committed_entries_from_applied_index_plus_one() {
        RaftConfig c = new RaftConfig(1, List.of(1L));
        c.appliedIndex = 2;
        RaftNode n = RaftNode.start(c, new HardState(1, 1, 4), null, log(1, 1, 1, 1));
        Ready r = n.ready();
        assertEquals(List.of(3L, 4L), r.committedEntries().stream().map(Entry::index).toList());
        assertTrue(r.entries().isEmpty());
        n.advance(r);
        assertFalse(n.hasReady());
    }

    @Test
    void restart_with_commit_beyond_log_is_rejected() {
        assertThrows(IllegalStateException.class,
                () -> node(1, List.of(1L), new HardState(1, 0, 5), log(1, 1), true, true));
    }

    // ---------------------------------------------------------------- terms

    @Test
    void when_any_server_sees_higher_term_it_becomes_follower_with_that_term() {
        RaftNode n = node(1, List.of(1L, 2L, 3L), null, List.of(), false, false);
        n.campaign();
        assertEquals(Role.CANDIDATE, n.role());
        n.step(append(2, 1, 5, 0, 0, 0));
        assertEquals(Role.FOLLOWER, n.role());
        assertEquals(5, n.term());
        assertEquals(2, n.leaderId());
    }

    @Test
    void stale_term_append_is_rejected_with_current_term() {
        RaftNode n = node(1, List.of(1L, 2L, 3L), new HardState(5, 0, 0), List.of(), true, true);
        n.step(append(2, 1, 3, 0, 0, 0, e(3, 1)));
        assertEquals(0, n.lastIndex());
        List<Message> out = drain(n);
        assertEquals(1, out.size());
        assertEquals(MessageType.APPEND_RESPONSE, out.get(0).type());
        assertEquals(5, out.get(0).term());
    }

    // ---------------------------------------------------------------- voting

    @Test
    void election_safety_grants_at_most_one_vote_per_term() {
        RaftNode n = node(1, List.of(1L, 2L, 3L), null, List.of(), false, false);
        n.step(vote(MessageType.VOTE, 2, 1, 1, 0, 0));
        n.step(vote(MessageType.VOTE, 3, 1, 1, 0, 0));
        List<Message> out = drain(n);
        assertEquals(2, out.size());
        assertFalse(out.get(0).reject());
        assertTrue(out.get(1).reject());
        // re-granting the same candidate (duplicate request) is fine
        n.step(vote(MessageType.VOTE, 2, 1, 1, 0, 0));
        assertFalse(drain(n).get(0).reject());
    }

    @Test
    void vote_is_rejected_when_candidate_log_is_less_up_to_date() {
        RaftNode n = node(1, List.of(1L, 2L, 3L), new HardState(2, 0, 0), log(1, 2), false, false);
        n.step(vote(MessageType.VOTE, 2, 1, 3, 5, 1)); // longer but older last term
        assertTrue(drain(n).get(0).reject());
        n.step(vote(MessageType.VOTE, 3, 1, 3, 1, 2)); // same last term but shorter
        assertTrue(drain(n).get(0).reject());
        n.step(vote(MessageType.VOTE, 3, 1, 3, 2, 2)); // equal
        assertFalse(drain(n).get(0).reject());
    }

    @Test
    void candidate_wins_with_majority_and_steps_down_on_majority_rejection() {
        RaftNode n = node(1, List.of(1L, 2L, 3L, 4L, 5L), null, List.of(), false, false);
        n.campaign();
        assertEquals(4, drain(n).size());
        n.step(new Message(MessageType.VOTE_RESPONSE, 2, 1, 1, 0, 0, List.of(), 0, false, 0, null, null));
        assertEquals(Role.CANDIDATE, n.role());
        n.step(new Message(MessageType.VOTE_RESPONSE, 3, 1, 1, 0, 0, List.of(), 0, false, 0, null, null));
        assertEquals(Role.LEADER, n.role());

        RaftNode m = node(1, List.of(1L, 2L, 3L), null, List.of(), false, false);
        m.campaign();
        m.step(new Message(MessageType.VOTE_RESPONSE, 2, 1, 1, 0, 0, List.of(), 0, true, 0, null, null));
        assertEquals(Role.CANDIDATE, m.role());
        m.step(new Message(MessageType.VOTE_RESPONSE, 3, 1, 1, 0, 0, List.of(), 0, true, 0, null, null));
        assertEquals(Role.FOLLOWER, m.role());
    }

    @Test
    void pre_vote_does_not_increase_term_of_a_partitioned_node() {
        RaftNode n = node(1, List.of(1L, 2L, 3L), null, List.of(), true, true);
        for (int i = 0; i < 100; i++) n.tick();
        assertEquals(0, n.term());
        assertEquals(Role.PRE_CANDIDATE, n.role());
        List<Message> out = drain(n);
        assertTrue(out.stream().allMatch(m -> m.type() == MessageType.PRE_VOTE && m.term() == 1));
    }

    @Test
    void follower_with_live_leader_ignores_vote_requests_leader_lease() {
        RaftNode n = node(1, List.of(1L, 2L, 3L), null, List.of(), true, true);
        n.step(append(2, 1, 1, 0, 0, 0));
        drain(n);
        n.step(vote(MessageType.VOTE, 3, 1, 2, 10, 1));
        assertEquals(1, n.term());
        assertTrue(drain(n).isEmpty());
        // a transfer-forced vote bypasses the lease
        n.step(new Message(MessageType.VOTE, 3, 1, 2, 1, 10, List.of(), 0, false, 0, new byte[]{'T'}, null));
        assertEquals(2, n.term());
        assertFalse(drain(n).get(0).reject());
    }

    @Test
    void learner_never_campaigns_and_votes_do_not_count_it() {
        RaftConfig c = new RaftConfig(3, List.of(1L, 2L));
        c.learners = List.of(3L);
        RaftNode n = RaftNode.start(c, null, null, List.of());
        for (int i = 0; i < 100; i++) n.tick();
        assertEquals(Role.FOLLOWER, n.role());
        assertTrue(drain(n).isEmpty());
    }

    // ---------------------------------------------------------------- log replication

    @Test
    void when_follower_receives_append_with_mismatched_prev_log_then_rejects() {
        RaftNode n = node(1, List.of(1L, 2L, 3L), new HardState(2, 0, 0), log(1, 1), true, true);
        n.step(append(2, 1, 2, 2, 2, 0, e(2, 3)));
        assertEquals(2, n.lastIndex());
        Message r = drain(n).get(0);
        assertTrue(r.reject());
        assertEquals(2, r.index());
        assertEquals(2, r.rejectHint());
        assertEquals(1, r.logTerm());
    }

    @Test
    void when_follower_log_is_short_then_reject_hint_points_to_its_last_index() {
        RaftNode n = node(1, List.of(1L, 2L, 3L), new HardState(2, 0, 0), log(1), true, true);
        n.step(append(2, 1, 2, 5, 2, 0));
        Message r = drain(n).get(0);
        assertTrue(r.reject());
        assertEquals(1, r.rejectHint());
    }

    @Test
    void follower_deletes_conflicting_entries_and_appends_new_ones() {
        RaftNode n = node(1, List.of(1L, 2L, 3L), new HardState(2, 0, 1), log(1, 2, 2), true, true);
        drain(n);
        n.step(append(2, 1, 3, 1, 1, 2, e(3, 2)));
        assertEquals(2, n.lastIndex());
        assertEquals(3, n.termAt(2));
        assertEquals(2, n.commitIndex());
        Ready r = n.ready();
        assertEquals(1, r.entries().size());
        assertEquals(2, r.entries().get(0).index());
        assertEquals(List.of(2L), r.committedEntries().stream().map(Entry::index).toList());
        n.advance(r);
    }

    @Test
    void follower_ignores_stale_append_that_would_truncate_matching_entries() {
        RaftNode n = node(1, List.of(1L, 2L, 3L), new HardState(2, 0, 0), log(1, 2, 2), true, true);
        n.step(append(2, 1, 2, 1, 1, 0, e(2, 2)));
        assertEquals(3, n.lastIndex());
        assertEquals(2, drain(n).get(0).index()); // acknowledges what the message covered
    }

    @Test
    void overwriting_a_committed_entry_throws() {
        RaftLog l = new RaftLog();
        l.append(log(1, 1, 1));
        l.commitTo(2);
        assertThrows(IllegalStateException.class, () -> l.append(List.of(e(2, 2))));
        assertThrows(IllegalStateException.class, () -> l.commitTo(4));
        RaftNode m = node(1, List.of(1L, 2L, 3L), new HardState(2, 0, 2), log(1, 1, 1), true, true);
        // an append that tries to replace committed index 2 via a lower prev index is answered with the commit index
        m.step(append(2, 1, 3, 1, 1, 0, e(3, 2)));
        assertEquals(2, drain(m).get(0).index());
    }

    @Test
    void leader_commits_only_current_term_entries_by_counting() {
        // node 1 has entries from terms 1 and 2 that were never committed
        RaftNode n = node(1, List.of(1L, 2L, 3L), new HardState(2, 0, 0), log(1, 2), false, false);
        n.campaign();
        n.step(new Message(MessageType.VOTE_RESPONSE, 2, 1, 3, 0, 0, List.of(), 0, false, 0, null, null));
        assertEquals(Role.LEADER, n.role());
        assertEquals(3, n.lastIndex()); // no-op of term 3
        drain(n);
        // follower 2 acknowledges index 2 (term 2 entry): replicated on a majority but not committed
        n.step(new Message(MessageType.APPEND_RESPONSE, 2, 1, 3, 0, 2, List.of(), 0, false, 0, null, null));
        assertEquals(0, n.commitIndex());
        // acknowledging the current-term entry commits everything before it too
        n.step(new Message(MessageType.APPEND_RESPONSE, 2, 1, 3, 0, 3, List.of(), 0, false, 0, null, null));
        assertEquals(3, n.commitIndex());
    }

    @Test
    void leader_backtracks_quickly_using_reject_hint() {
        RaftNode n = node(1, List.of(1L, 2L), new HardState(4, 0, 0), log(1, 1, 4, 4, 4, 4), false, false);
        n.campaign();
        n.step(new Message(MessageType.VOTE_RESPONSE, 2, 1, 5, 0, 0, List.of(), 0, false, 0, null, null));
        drain(n);
        // follower has [1,1,2,2,2,2,2,2] style log: rejects prev=6 with hint (6, term 2)
        n.step(new Message(MessageType.APPEND_RESPONSE, 2, 1, 5, 2, 6, List.of(), 0, true, 6, null, null));
        List<Message> out = drain(n);
        Message app = out.stream().filter(m -> m.type() == MessageType.APPEND).findFirst().orElseThrow();
        assertEquals(2, app.index()); // jumps straight to the last index with term <= 2
        assertEquals(1, app.logTerm());
    }

    @Test
    void flow_control_bounds_inflight_appends_in_replicate_state() {
        RaftConfig c = new RaftConfig(1, List.of(1L, 2L));
        c.preVote = false;
        c.maxInflightMessages = 2;
        RaftNode n = RaftNode.start(c, null, null, List.of());
        n.campaign();
        n.step(new Message(MessageType.VOTE_RESPONSE, 2, 1, 1, 0, 0, List.of(), 0, false, 0, null, null));
        drain(n);
        n.step(new Message(MessageType.APPEND_RESPONSE, 2, 1, 1, 0, 1, List.of(), 0, false, 0, null, null));
        drain(n);
        for (int i = 0; i < 5; i++) n.propose(("p" + i).getBytes());
        long appends = drain(n).stream().filter(m -> m.type() == MessageType.APPEND && !m.entries().isEmpty()).count();
        assertEquals(2, appends);
    }

    // ---------------------------------------------------------------- cluster tests

    @Test
    void three_node_election_and_replication() {
        TestNet net = new TestNet(1, 2, 3);
        net.node(1).campaign();
        net.settle();
        assertEquals(1, net.leader());
        for (long id = 1; id <= 3; id++) assertEquals(1, net.node(id).leaderId());
        net.node(1).propose("a".getBytes());
        net.node(2).propose("b".getBytes()); // forwarded to the leader
        net.settle();
        net.tickAll(2); // heartbeats propagate the commit index
        for (long id = 1; id <= 3; id++) {
            assertEquals(List.of("a", "b"), net.appliedData(id), "node " + id);
        }
    }

    @Test
    void three_node_election_by_timeout() {
        TestNet net = new TestNet(1, 2, 3);
        net.tickAll(40);
        long l = net.leader();
        assertNotEquals(0, l);
        for (long id = 1; id <= 3; id++) assertEquals(l, net.node(id).leaderId());
    }

    @Test
    void partitioned_leader_steps_down_by_check_quorum_and_new_leader_is_elected() {
        TestNet net = new TestNet(1, 2, 3);
        net.node(1).campaign();
        net.settle();
        net.isolated.add(1L);
        net.tickAll(40);
        assertNotEquals(Role.LEADER, net.node(1).role());
        long l = net.leader();
        assertTrue(l == 2 || l == 3);
        net.node(l).propose("x".getBytes());
        net.settle();
        net.isolated.clear();
        net.tickAll(5);
        assertEquals(List.of("x"), net.appliedData(1));
        assertEquals(l, net.node(1).leaderId());
    }

    @Test
    void read_index_is_served_after_heartbeat_quorum_and_forwarded_from_followers() {
        TestNet net = new TestNet(1, 2, 3);
        net.node(1).campaign();
        net.settle();
        net.node(1).propose("a".getBytes());
        net.settle();
        net.node(1).readIndex("r1".getBytes());
        net.node(1).readIndex("r2".getBytes());
        net.node(3).readIndex("r3".getBytes());
        net.settle();
        assertEquals(2, net.reads.get(1L).size());
        assertEquals(1, net.reads.get(3L).size());
        for (ReadState rs : net.reads.get(1L)) assertEquals(2, rs.index());
        assertEquals("r3", new String(net.reads.get(3L).get(0).requestContext()));
    }

    @Test
    void read_index_is_not_served_by_isolated_leader() {
        TestNet net = new TestNet(1, 2, 3);
        net.node(1).campaign();
        net.settle();
        net.isolated.add(1L);
        net.node(1).readIndex("r".getBytes());
        net.settle();
        assertTrue(net.reads.get(1L).isEmpty());
    }

    @Test
    void leader_transfer_hands_leadership_to_up_to_date_target() {
        TestNet net = new TestNet(1, 2, 3);
        net.node(1).campaign();
        net.settle();
        net.node(1).propose("a".getBytes());
        net.settle();
        net.node(1).transferLeadership(3);
        net.settle();
        assertEquals(3, net.leader());
        assertEquals(Role.FOLLOWER, net.node(1).role());
        assertEquals(2, net.node(3).term());
    }

    @Test
    void proposals_are_dropped_during_leader_transfer() {
        TestNet net = new TestNet(1, 2, 3);
        net.node(1).campaign();
        net.settle();
        net.isolated.add(3L);
        net.node(1).transferLeadership(3);
        assertThrows(ProposalDroppedException.class, () -> net.node(1).propose("x".getBytes()));
        net.tickAll(12); // transfer times out after an election timeout
        net.isolated.clear();
        net.node(1).propose("y".getBytes());
    }

    @Test
    void membership_add_learner_promote_and_remove() {
        TestNet net = new TestNet(1, 2, 3);
        net.node(1).campaign();
        net.settle();
        net.add(4, List.of(1L, 2L, 3L), List.of());
        net.node(1).proposeConfChange(new ConfChange(ConfChangeType.ADD_LEARNER, 4, null));
        assertThrows(ProposalDroppedException.class,
                () -> net.node(1).proposeConfChange(new ConfChange(ConfChangeType.ADD_LEARNER, 5, null)));
        net.settle();
        net.tickAll(3);
        assertEquals(List.of(4L), net.node(1).confState().learners());
        assertEquals(List.of(4L), net.node(4).confState().learners());
        net.node(1).propose("a".getBytes());
        net.settle();
        net.tickAll(2);
        assertEquals(List.of("a"), net.appliedData(4));
        net.node(1).proposeConfChange(new ConfChange(ConfChangeType.PROMOTE_LEARNER, 4, null));
        net.settle();
        net.tickAll(2);
        assertEquals(List.of(1L, 2L, 3L, 4L), net.node(1).confState().voters());
        net.node(1).proposeConfChange(new ConfChange(ConfChangeType.REMOVE_NODE, 1, null));
        net.settle();
        net.tickAll(40);
        long l = net.leader();
        assertTrue(l >= 2 && l <= 4, "leader " + l);
        assertEquals(List.of(2L, 3L, 4L), net.node(l).confState().voters());
        net.node(l).propose("b".getBytes());
        net.settle();
        net.tickAll(2);
        for (long id = 2; id <= 4; id++) assertEquals(List.of("a", "b"), net.appliedData(id));
    }

    @Test
    void lagging_follower_gets_snapshot_after_compaction() {
        TestNet net = new TestNet(1, 2, 3);
        net.node(1).campaign();
        net.settle();
        net.isolated.add(3L);
        for (int i = 0; i < 10; i++) net.node(1).propose(("p" + i).getBytes());
        net.settle();
        net.tickAll(2);
        RaftNode l = net.node(1);
        l.compact(l.appliedIndex(), "SNAP".getBytes());
        net.isolated.clear();
        net.tickAll(5);
        assertEquals(l.commitIndex(), net.node(3).commitIndex());
        assertNotNull(net.stores.get(3L).snap);
        assertEquals("SNAP", new String(net.stores.get(3L).snap.data()));
        net.node(1).propose("after".getBytes());
        net.settle();
        net.tickAll(2);
        assertEquals(List.of("after"), net.appliedData(3));
    }

    @Test
    void applied_entries_lose_their_data_past_the_memory_budget_but_keep_their_terms() {
        TestNet net = TestNet.withLogBudget(100, 1);
        net.node(1).campaign();
        net.settle();
        for (int i = 0; i < 50; i++) net.node(1).propose(("value-" + i).getBytes());
        net.settle();
        RaftNode n = net.node(1);
        assertEquals(50, net.appliedData(1).size(), "every proposal was applied with its data");
        assertTrue(n.retainedEntryBytes() <= 100, "retained " + n.retainedEntryBytes());
        assertTrue(n.payloadTrimmedTo() > 0 && n.payloadTrimmedTo() <= n.appliedIndex());
        for (long i = 1; i <= n.lastIndex(); i++) {
            assertEquals(net.stores.get(1L).entries.get((int) i - 1).term(), n.termAt(i), "term of " + i);
        }
        assertNull(n.snapshot(), "trimming is not a compaction: the WAL side decides those");
    }

    /** Three nodes keeping at most 100 bytes of entry data in memory; node 1 leads. */
    private static TestNet threeNodesLedBy1WithLogBudget() {
        TestNet net = TestNet.withLogBudget(100, 1, 2, 3);
        net.node(1).campaign();
        net.settle();
        return net;
    }

    /** Thirty proposals of about 18 bytes (well past the budget), replicated and applied. */
    private static void proposeThirtyFrom1(TestNet net) {
        for (int i = 0; i < 30; i++) net.node(1).propose(("proposal number " + i).getBytes());
        net.settle();
        net.tickAll(2);
    }

    @Test
    void a_leader_keeps_the_data_a_lagging_follower_needs_and_it_catches_up_from_the_log() {
        TestNet net = threeNodesLedBy1WithLogBudget();
        net.isolated.add(3L);
        proposeThirtyFrom1(net);
        RaftNode leader = net.node(1);
        assertTrue(leader.payloadTrimmedTo() < 3, "trimmed to " + leader.payloadTrimmedTo() + " past follower 3's match");
        assertTrue(net.node(2).payloadTrimmedTo() > 0, "a follower trims what it applied");
        net.isolated.clear();
        net.tickAll(5);
        assertNull(net.stores.get(3L).snap, "caught up from entries, not a snapshot");
        assertEquals(net.appliedData(1), net.appliedData(3));
        net.node(1).propose("after".getBytes());
        net.settle();
        net.tickAll(2);
        assertTrue(leader.payloadTrimmedTo() > 3, "with every follower caught up the leader trims too");
    }

    @Test
    void a_follower_that_becomes_leader_still_has_the_newest_entries_for_a_member_a_little_behind() {
        TestNet net = threeNodesLedBy1WithLogBudget();
        proposeThirtyFrom1(net);
        net.isolated.add(3L);
        net.node(1).propose("missed by 3".getBytes());
        net.settle();
        net.tickAll(2);
        assertTrue(net.node(2).payloadTrimmedTo() > 0, "follower 2 trimmed what it applied");
        assertTrue(net.node(2).retainedEntryBytes() >= 50, "but kept the newest half of its budget");
        net.isolated.clear();
        net.isolated.add(1L); // the leader goes away; only 2 has every entry, so 2 wins
        net.tickAll(30);
        assertEquals(2, net.leader());
        net.tickAll(5);
        assertNull(net.stores.get(3L).snap, "3 caught up from the new leader's log, not from a snapshot");
        assertEquals(net.appliedData(2), net.appliedData(3));
        assertTrue(net.appliedData(3).contains("missed by 3"));
    }

    @Test
    void a_member_that_needs_trimmed_entries_gets_a_snapshot() {
        TestNet net = threeNodesLedBy1WithLogBudget();
        proposeThirtyFrom1(net);
        RaftNode leader = net.node(1);
        long trimmed = leader.payloadTrimmedTo();
        assertTrue(trimmed > 1);
        net.add(4, List.of(1L, 2L, 3L), List.of(4L)); // a learner joins with an empty log
        leader.proposeConfChange(new ConfChange(ConfChangeType.ADD_LEARNER, 4, null));
        net.settle();
        net.tickAll(5);
        Snapshot sent = net.stores.get(4L).snap;
        assertNotNull(sent, "the learner got a snapshot: the data it needed was trimmed");
        assertTrue(sent.index() >= trimmed, "snapshot at " + sent.index() + ", trimmed to " + trimmed);
        assertEquals(leader.commitIndex(), net.node(4).commitIndex());
    }

    // ---------------------------------------------------------------- codec

    @Test
    void message_codec_round_trips_all_fields() {
        Snapshot s = new Snapshot(7, 3, new ConfState(List.of(1L, 2L), List.of(3L)), "d".getBytes());
        Message m = new Message(MessageType.SNAPSHOT, 1, 2, 9, 8, 7, List.of(e(3, 8), new Entry(3, 9, EntryType.CONF_CHANGE,
                new ConfChange(ConfChangeType.ADD_LEARNER, 5, "c".getBytes()).encode())), 6, true, 5, "ctx".getBytes(), s);
        Message d = MessageCodec.decode(MessageCodec.encode(m));
        assertEquals(m.type(), d.type());
        assertEquals(List.of(1L, 2L, 9L, 8L, 7L, 6L, 5L), List.of(d.from(), d.to(), d.term(), d.logTerm(), d.index(), d.commit(), d.rejectHint()));
        assertTrue(d.reject());
        assertEquals("ctx", new String(d.context()));
        assertEquals(2, d.entries().size());
        assertEquals(EntryType.CONF_CHANGE, d.entries().get(1).type());
        ConfChange cc = ConfChange.decode(d.entries().get(1).data());
        assertEquals(ConfChangeType.ADD_LEARNER, cc.type());
        assertEquals(5, cc.nodeId());
        assertEquals(s.confState(), d.snapshot().confState());
        assertEquals("d", new String(d.snapshot().data()));
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.decode(new byte[]{1, 2}));
    }
}
