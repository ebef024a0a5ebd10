package io.vetcd.raft;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A pure, single-threaded Raft state machine (no I/O, no threads, no clocks).
 *
 * <h2>Application contract</h2>
 * <pre>
 * loop {
 *   call tick() every tick interval; step(m) for every received peer message;
 *   if (node.hasReady()) {
 *     Ready r = node.ready();
 *     persist durably: r.snapshot() (if non-null, install it), then r.entries() (first drop stored entries
 *       with index &gt;= r.entries().get(0).index()), then r.hardState() (if non-null);
 *     send r.messages() (only after the above is durable);
 *     apply r.committedEntries() in order (CONF_CHANGE entries: call applyConfChange(ConfChange.decode(data)));
 *       entries with empty data (the leader's no-op) are skipped by the app;
 *     serve r.readStates() once the applied index reaches ReadState.index();
 *     node.advance(r);
 *   }
 * }
 * </pre>
 * At most one Ready is outstanding: after {@link #ready()} the node reports {@code hasReady() == false} until
 * {@link #advance(Ready)} is called with it. Committed entries are delivered exactly once, in index order,
 * starting at {@link RaftConfig#appliedIndex}+1 after a (re)start. A committed entry may appear in
 * {@code committedEntries} of the same Ready that carries it in {@code entries} (single-voter cluster), which is
 * why the app must persist before applying.
 * <p>
 * Pending read requests are silently dropped when leadership changes; the app must time out reads.
 * <p>
 * Invariants (term/commit monotonic, no overwriting committed entries, commit within the log) are always
 * checked and violations throw {@link IllegalStateException}.
 */
public final class RaftNode {
    private static final byte[] CAMPAIGN_TRANSFER = {'T'};

    private final RaftConfig cfg;
    private final long id;
    private final Random random;
    private final RaftLog log = new RaftLog();

    private long term;
    private long vote;
    private long leaderId;
    private Role role = Role.FOLLOWER;

    private final LinkedHashSet<Long> voters = new LinkedHashSet<>();
    private final LinkedHashSet<Long> learners = new LinkedHashSet<>();
    private final Map<Long, Progress> prs = new TreeMap<>();
    private final Map<Long, Boolean> votes = new HashMap<>();

    private int electionElapsed;
    private int heartbeatElapsed;
    private int randomizedElectionTimeout;
    private long leadTransferee;
    private long pendingConfIndex;

    // read index (leader side)
    private record PendingRead(long seq, long index, byte[] ctx, long from) {}
    private long readSeq;
    private long readSeqBroadcast;
    private final ArrayDeque<PendingRead> pendingReads = new ArrayDeque<>();
    private final ArrayList<PendingRead> readsAwaitingCommit = new ArrayList<>();

    private final ArrayList<Message> msgs = new ArrayList<>();
    private final ArrayList<ReadState> readStates = new ArrayList<>();
    private SoftState prevSoft = new SoftState(0, Role.FOLLOWER);
    private HardState prevHard = new HardState(0, 0, 0);
    private boolean readyOutstanding;

    private RaftNode(RaftConfig cfg) {
        cfg.validate();
        this.cfg = cfg;
        this.id = cfg.id;
        this.random = new Random(cfg.randomSeed ^ (cfg.id * 0x9E3779B97F4A7C15L));
    }

    /**
     * Creates a node. With no persisted state this is a fresh node whose membership is
     * {@code config.voters}/{@code config.learners}. On restart pass what the app persisted from Readies:
     * the last HardState, the last snapshot (may be null) and the stored entries after it.
     */
    public static RaftNode start(RaftConfig config, HardState persisted, Snapshot persistedSnapshot,
                                 List<Entry> persistedEntries) {
        RaftNode n = new RaftNode(config);
        n.init(persisted, persistedSnapshot, persistedEntries == null ? List.of() : persistedEntries);
        return n;
    }

    private void init(HardState hs, Snapshot snap, List<Entry> entries) {
        if (snap != null) {
            log.snapIndex = snap.index();
            log.snapTerm = snap.term();
            log.payloadTrimmedTo = snap.index();
            log.snapshot = snap;
            voters.addAll(snap.confState().voters());
            learners.addAll(snap.confState().learners());
        } else {
            voters.addAll(cfg.voters);
            for (long l : cfg.learners) if (!voters.contains(l)) learners.add(l);
        }
        List<Entry> tail = new ArrayList<>();
        for (Entry e : entries) if (e.index() > log.snapIndex) tail.add(e);
        if (!tail.isEmpty() && tail.get(0).index() != log.snapIndex + 1) {
            throw new IllegalStateException("persisted entries start at " + tail.get(0).index() + ", expected " + (log.snapIndex + 1));
        }
        log.append(tail);
        log.unstableFrom = log.lastIndex() + 1;
        log.committed = log.snapIndex;
        if (hs != null) {
            term = hs.term();
            vote = hs.votedFor();
            if (hs.commit() > log.lastIndex()) {
                throw new IllegalStateException("persisted commit " + hs.commit() + " beyond last index " + log.lastIndex());
            }
            log.committed = Math.max(hs.commit(), log.snapIndex);
        }
        long applied = Math.max(cfg.appliedIndex, log.snapIndex);
        if (applied > log.committed) {
            throw new IllegalStateException("appliedIndex " + applied + " beyond commit " + log.committed);
        }
        // membership changes that the app already applied before the restart
        for (long i = log.snapIndex + 1; i <= applied; i++) {
            Entry e = log.entry(i);
            if (e.type() == EntryType.CONF_CHANGE) applyConfChangeInternal(ConfChange.decode(e.data()));
        }
        log.applied = applied;
        prevHard = new HardState(term, vote, log.committed);
        becomeFollower(term, 0);
    }

    // ------------------------------------------------------------------ accessors

    public long id() { return id; }
    public long term() { return term; }
    public long leaderId() { return leaderId; }
    public Role role() { return role; }
    public long commitIndex() { return log.committed; }
    public long lastIndex() { return log.lastIndex(); }
    /** Last index the application acknowledged as applied (via advance). */
    public long appliedIndex() { return log.applied; }
    // package-private views for tests
    long termAt(long i) { return log.term(i); }
    Entry entryAt(long i) { return log.entry(i); }
    long snapIndex() { return log.snapIndex; }

    /** The latest snapshot (local compaction, restart or installed from the leader), or null. */
    public Snapshot snapshot() { return log.snapshot; }

    /**
     * Leader only: the match index of {@code peer} and of the leader itself ({@code [leader, peer]}), or
     * null when this node does not lead or does not know the peer.
     */
    public long[] matchIndexes(long peer) {
        if (role != Role.LEADER) return null;
        Progress pr = prs.get(peer);
        return pr == null ? null : new long[] {prs.get(id).match, pr.match};
    }

    public ConfState confState() { return new ConfState(new ArrayList<>(voters), new ArrayList<>(learners)); }
    /** Whether this node is a learner of its current configuration (it replicates the log but does not vote). */
    public boolean isLearner() { return learners.contains(id); }

    // ------------------------------------------------------------------ app API

    public void tick() {
        if (role == Role.LEADER) tickHeartbeat(); else tickElection();
    }

    /** Starts an election now (no-op on learners / removed nodes / leaders). */
    public void campaign() {
        hup(false);
    }

    /** Proposes a normal entry. */
    public void propose(byte[] data) {
        proposeEntry(new Entry(0, 0, EntryType.NORMAL, data == null ? new byte[0] : data.clone()));
    }

    /** Proposes a membership change; only one may be pending (proposed but not applied) at a time. */
    public void proposeConfChange(ConfChange cc) {
        proposeEntry(new Entry(0, 0, EntryType.CONF_CHANGE, cc.encode()));
    }

    private void proposeEntry(Entry e) {
        if (role == Role.LEADER) {
            if (!appendProposal(e)) throw new ProposalDroppedException("proposal rejected by leader " + id);
            return;
        }
        if (role != Role.FOLLOWER || leaderId == 0) throw new ProposalDroppedException("no leader");
        send(msg(MessageType.PROPOSE, leaderId, 0).entries(List.of(e)).build());
    }

    /** Linearizable read index request; the result appears as a ReadState in a later Ready. */
    public void readIndex(byte[] requestContext) {
        byte[] ctx = requestContext == null ? new byte[0] : requestContext.clone();
        if (role == Role.LEADER) {
            leaderReadIndex(ctx, id);
            return;
        }
        if (role != Role.FOLLOWER || leaderId == 0) throw new ProposalDroppedException("no leader");
        send(msg(MessageType.READ_INDEX, leaderId, 0).context(ctx).build());
    }

    /** Asks the leader to hand leadership to {@code target} (forwarded if this node is a follower). */
    public void transferLeadership(long target) {
        if (role == Role.LEADER) {
            leaderTransfer(target);
        } else if (leaderId != 0) {
            send(msg(MessageType.TRANSFER_LEADER, leaderId, 0).index(target).build());
        }
    }

    /** Must be called by the app when a committed CONF_CHANGE entry is applied. */
    public ConfState applyConfChange(ConfChange cc) {
        applyConfChangeInternal(cc);
        if (role == Role.LEADER) {
            if (!voters.contains(id)) {
                // the leader was removed (or demoted): step down, the rest will elect a new leader
                becomeFollower(term, 0);
            } else {
                if (leadTransferee != 0 && !voters.contains(leadTransferee)) leadTransferee = 0;
                if (maybeCommit()) bcastAppend();
                else for (long p : prs.keySet()) if (p != id) sendAppend(p, false);
                releaseReads();
            }
        }
        return confState();
    }

    private void applyConfChangeInternal(ConfChange cc) {
        long n = cc.nodeId();
        switch (cc.type()) {
            case ADD_NODE, PROMOTE_LEARNER -> { learners.remove(n); voters.add(n); }
            case ADD_LEARNER -> { voters.remove(n); learners.add(n); }
            case REMOVE_NODE -> { voters.remove(n); learners.remove(n); }
            case UPDATE_NODE -> { }
        }
        if (role == Role.LEADER) syncProgress();
    }

    private void syncProgress() {
        prs.keySet().removeIf(p -> !voters.contains(p) && !learners.contains(p));
        for (long v : voters) addProgress(v, false);
        for (long l : learners) addProgress(l, true);
    }

    private void addProgress(long p, boolean learner) {
        Progress pr = prs.get(p);
        if (pr == null) {
            pr = new Progress(log.lastIndex() + 1, cfg.maxInflightMessages, learner);
            pr.recentActive = true;
            if (p == id) pr.match = log.lastIndex();
            prs.put(p, pr);
        }
        pr.learner = learner;
    }

    /**
     * The app has a snapshot of its state machine at {@code index} (&lt;= applied index, taken right after
     * applying it, so that the current membership is the one at that index). Log entries up to index are
     * dropped; followers lagging behind it get a SNAPSHOT message carrying {@code snapshotData}.
     */
    public void compact(long index, byte[] snapshotData) {
        if (index > log.applied) throw new IllegalArgumentException("compact index " + index + " beyond applied " + log.applied);
        if (index <= log.snapIndex) return;
        long t = log.term(index);
        log.compactTo(index);
        log.snapshot = new Snapshot(index, t, confState(), snapshotData == null ? new byte[0] : snapshotData);
    }

    // ------------------------------------------------------------------ ready / advance

    public boolean hasReady() {
        if (readyOutstanding) return false;
        flushReads();
        return !msgs.isEmpty() || !readStates.isEmpty() || !softState().equals(prevSoft)
                || !hardState().equals(prevHard) || log.pendingSnapshot != null
                || log.unstableFrom <= log.lastIndex() || log.committed > log.applied;
    }

    public Ready ready() {
        if (readyOutstanding) throw new IllegalStateException("previous Ready not advanced");
        flushReads();
        SoftState ss = softState();
        HardState hs = hardState();
        Ready r = new Ready(
                ss.equals(prevSoft) ? null : ss,
                hs.equals(prevHard) ? null : hs,
                log.unstableEntries(),
                log.pendingSnapshot,
                log.slice(log.applied + 1, log.committed, Long.MAX_VALUE),
                new ArrayList<>(msgs),
                new ArrayList<>(readStates));
        msgs.clear();
        readStates.clear();
        prevSoft = ss;
        prevHard = hs;
        readyOutstanding = true;
        return r;
    }

    public void advance(Ready r) {
        if (!readyOutstanding) throw new IllegalStateException("advance without ready");
        readyOutstanding = false;
        if (r.snapshot() != null && log.pendingSnapshot == r.snapshot()) log.pendingSnapshot = null;
        if (!r.entries().isEmpty()) {
            Entry last = r.entries().get(r.entries().size() - 1);
            log.stableTo(last.index(), last.term());
        }
        if (!r.committedEntries().isEmpty()) {
            long a = r.committedEntries().get(r.committedEntries().size() - 1).index();
            if (a > log.committed) throw new IllegalStateException("applied " + a + " beyond commit " + log.committed);
            log.applied = Math.max(log.applied, a);
        }
        trimAppliedPayloads();
    }

    /**
     * Keeps the log's heap use bounded (etcd keeps every entry until the next snapshot, which with
     * large entries can be gigabytes): past {@code maxRetainedEntryBytes}, drops the data of entries
     * that are applied here and, on a leader, matched by every follower, so a healthy or briefly
     * lagging follower still catches up from the log.
     */
    private void trimAppliedPayloads() {
        if (log.retainedPayloadBytes <= cfg.maxRetainedEntryBytes) return;
        long upTo = Math.min(log.applied, log.unstableFrom - 1);
        if (role == Role.LEADER) {
            for (Map.Entry<Long, Progress> e : prs.entrySet()) {
                if (e.getKey() != id) upTo = Math.min(upTo, e.getValue().match);
            }
        }
        // Nothing to trim (a follower holds the trim point): skip the scan below, which walks the log.
        if (upTo <= log.payloadTrimmedTo) return;
        // The newest half of the budget stays: a member a little behind still catches up from this
        // node's log should it become leader (a follower cannot see the others' progress).
        upTo = Math.min(upTo, log.lastIndexBeforeNewest(cfg.maxRetainedEntryBytes / 2));
        if (upTo > log.payloadTrimmedTo) log.trimPayloadsTo(upTo);
    }

    /** Data bytes the log holds on the heap (tests). */
    long retainedEntryBytes() { return log.retainedPayloadBytes; }

    /** Entries up to here have no data any more (tests). */
    long payloadTrimmedTo() { return log.payloadTrimmedTo; }

    private SoftState softState() { return new SoftState(leaderId, role); }

    private HardState hardState() { return new HardState(term, vote, log.committed); }

    // ------------------------------------------------------------------ ticking

    private void tickElection() {
        electionElapsed++;
        if (promotable() && electionElapsed >= randomizedElectionTimeout) {
            electionElapsed = 0;
            hup(false);
        }
    }

    private void tickHeartbeat() {
        heartbeatElapsed++;
        electionElapsed++;
        for (Progress pr : prs.values()) {
            if (pr.state == Progress.State.SNAPSHOT && ++pr.snapshotTicks > 2 * cfg.electionTimeoutTicks) {
                pr.becomeProbe(); // snapshot presumably lost; retry
            }
        }
        if (electionElapsed >= cfg.electionTimeoutTicks) {
            electionElapsed = 0;
            if (cfg.checkQuorum && !quorumActive()) {
                becomeFollower(term, 0);
                return;
            }
            leadTransferee = 0; // a transfer must finish within one election timeout
        }
        if (heartbeatElapsed >= cfg.heartbeatTicks) {
            heartbeatElapsed = 0;
            bcastHeartbeat();
        }
    }

    private boolean quorumActive() {
        int active = 0;
        for (long v : voters) {
            Progress pr = prs.get(v);
            if (v == id || (pr != null && pr.recentActive)) active++;
        }
        for (Map.Entry<Long, Progress> e : prs.entrySet()) if (e.getKey() != id) e.getValue().recentActive = false;
        return active >= quorum();
    }

    private boolean promotable() { return voters.contains(id); }

    private int quorum() { return voters.size() / 2 + 1; }

    // ------------------------------------------------------------------ role transitions

    private void setTerm(long t) {
        if (t < term) throw new IllegalStateException("term going backwards " + term + " -> " + t);
        if (t != term) {
            term = t;
            vote = 0;
        }
    }

    private void reset(long t) {
        setTerm(t);
        leaderId = 0;
        electionElapsed = 0;
        heartbeatElapsed = 0;
        randomizedElectionTimeout = cfg.electionTimeoutTicks + random.nextInt(cfg.electionTimeoutTicks);
        leadTransferee = 0;
        votes.clear();
        prs.clear();
        pendingConfIndex = 0;
        pendingReads.clear();
        readsAwaitingCommit.clear();
        readSeqBroadcast = readSeq;
    }

    private void becomeFollower(long t, long lead) {
        reset(t);
        leaderId = lead;
        role = Role.FOLLOWER;
    }

    private void becomePreCandidate() {
        if (role == Role.LEADER) throw new IllegalStateException("leader -> pre-candidate");
        votes.clear();
        leaderId = 0;
        role = Role.PRE_CANDIDATE;
    }

    private void becomeCandidate() {
        if (role == Role.LEADER) throw new IllegalStateException("leader -> candidate");
        reset(term + 1);
        vote = id;
        role = Role.CANDIDATE;
    }

    private void becomeLeader() {
        if (role != Role.CANDIDATE) throw new IllegalStateException("only a candidate can become leader");
        reset(term);
        leaderId = id;
        role = Role.LEADER;
        syncProgress();
        Progress self = prs.get(id);
        self.becomeReplicate();
        for (Progress pr : prs.values()) pr.recentActive = true;
        appendEntries(List.of(new Entry(0, 0, EntryType.NORMAL, new byte[0])));
        pendingConfIndex = log.lastIndex();
    }

    private void hup(boolean transfer) {
        if (role == Role.LEADER || !promotable()) return;
        if (hasUnappliedConfChanges()) return;
        if (cfg.preVote && !transfer) campaignRound(true, false);
        else campaignRound(false, transfer);
    }

    private boolean hasUnappliedConfChanges() {
        for (long i = Math.max(log.applied + 1, log.snapIndex + 1); i <= log.committed; i++) {
            if (log.entry(i).type() == EntryType.CONF_CHANGE) return true;
        }
        return false;
    }

    private void campaignRound(boolean pre, boolean transfer) {
        long voteTerm;
        if (pre) {
            becomePreCandidate();
            voteTerm = term + 1;
        } else {
            becomeCandidate();
            voteTerm = term;
        }
        if (recordVote(id, true) == 1) {
            if (pre) campaignRound(false, false); else becomeLeaderAndBroadcast();
            return;
        }
        for (long v : voters) {
            if (v == id) continue;
            send(msg(pre ? MessageType.PRE_VOTE : MessageType.VOTE, v, voteTerm)
                    .logTerm(log.lastTerm()).index(log.lastIndex())
                    .context(transfer ? CAMPAIGN_TRANSFER : null).build());
        }
    }

    private void becomeLeaderAndBroadcast() {
        becomeLeader();
        bcastAppend();
    }

    /** Records a vote; returns 1 if won, -1 if lost, 0 if pending. */
    private int recordVote(long from, boolean granted) {
        if (voters.contains(from)) votes.putIfAbsent(from, granted);
        int yes = 0, no = 0;
        for (Map.Entry<Long, Boolean> e : votes.entrySet()) {
            if (!voters.contains(e.getKey())) continue;
            if (e.getValue()) yes++; else no++;
        }
        int q = quorum();
        if (yes >= q) return 1;
        if (no > voters.size() - q) return -1;
        return 0;
    }

    // ------------------------------------------------------------------ message handling

    /** Processes a message from a peer. */
    public void step(Message m) {
        if (m.to() != id) return;
        if (m.term() == 0) {
            stepTermless(m);
            return;
        }
        if (m.term() > term) {
            if (m.type() == MessageType.VOTE || m.type() == MessageType.PRE_VOTE) {
                boolean force = Arrays.equals(m.context(), CAMPAIGN_TRANSFER);
                boolean inLease = cfg.checkQuorum && leaderId != 0 && electionElapsed < cfg.electionTimeoutTicks;
                if (!force && inLease) return; // a live leader exists: ignore disruptive candidates
            }
            if (m.type() == MessageType.PRE_VOTE) {
                // never change term on a pre-vote
            } else if (m.type() == MessageType.PRE_VOTE_RESPONSE && !m.reject()) {
                // granted pre-votes carry the future term; our term changes only when we win
            } else if (m.type() == MessageType.APPEND || m.type() == MessageType.HEARTBEAT
                    || m.type() == MessageType.SNAPSHOT) {
                becomeFollower(m.term(), m.from());
            } else {
                becomeFollower(m.term(), 0);
            }
        } else if (m.term() < term) {
            if ((cfg.checkQuorum || cfg.preVote)
                    && (m.type() == MessageType.APPEND || m.type() == MessageType.HEARTBEAT)) {
                // a stale leader: tell it about the newer term so it steps down
                send(msg(MessageType.APPEND_RESPONSE, m.from(), term).build());
            } else if (m.type() == MessageType.PRE_VOTE) {
                send(msg(MessageType.PRE_VOTE_RESPONSE, m.from(), term).reject(true).build());
            }
            return;
        }

        switch (m.type()) {
            case VOTE, PRE_VOTE -> handleVoteRequest(m);
            default -> {
                switch (role) {
                    case LEADER -> stepLeader(m);
                    case CANDIDATE, PRE_CANDIDATE -> stepCandidate(m);
                    case FOLLOWER -> stepFollower(m);
                }
            }
        }
    }

    private void stepTermless(Message m) {
        switch (m.type()) {
            case PROPOSE -> {
                if (role == Role.LEADER) {
                    for (Entry e : m.entries()) if (!appendProposal(e)) break;
                } else if (role == Role.FOLLOWER && leaderId != 0 && leaderId != m.from()) {
                    send(msg(MessageType.PROPOSE, leaderId, 0).entries(m.entries()).build());
                }
            }
            case READ_INDEX -> {
                if (role == Role.LEADER) leaderReadIndex(m.context(), m.from());
                else if (role == Role.FOLLOWER && leaderId != 0 && leaderId != m.from()) {
                    send(new Message(MessageType.READ_INDEX, m.from(), leaderId, 0, 0, 0, List.of(), 0, false, 0, m.context(), null));
                }
            }
            case TRANSFER_LEADER -> {
                if (role == Role.LEADER) leaderTransfer(m.index());
                else if (role == Role.FOLLOWER && leaderId != 0 && leaderId != m.from()) {
                    send(msg(MessageType.TRANSFER_LEADER, leaderId, 0).index(m.index()).build());
                }
            }
            default -> { /* malformed: ignore */ }
        }
    }

    private void handleVoteRequest(Message m) {
        boolean pre = m.type() == MessageType.PRE_VOTE;
        boolean canVote = vote == m.from() || (vote == 0 && leaderId == 0) || (pre && m.term() > term);
        MessageType resp = pre ? MessageType.PRE_VOTE_RESPONSE : MessageType.VOTE_RESPONSE;
        if (canVote && log.isUpToDate(m.index(), m.logTerm())) {
            send(msg(resp, m.from(), m.term()).build());
            if (!pre) {
                electionElapsed = 0;
                vote = m.from();
            }
        } else {
            send(msg(resp, m.from(), term).reject(true).build());
        }
    }

    private void stepLeader(Message m) {
        Progress pr = prs.get(m.from());
        switch (m.type()) {
            case APPEND_RESPONSE -> {
                if (pr == null) return;
                pr.recentActive = true;
                if (m.reject()) {
                    long hint = m.rejectHint();
                    if (m.logTerm() > 0) hint = log.findConflictByTerm(m.rejectHint(), m.logTerm());
                    if (pr.maybeDecrTo(m.index(), hint)) {
                        if (pr.state == Progress.State.REPLICATE) pr.becomeProbe();
                        sendAppend(m.from(), false);
                    }
                    return;
                }
                if (pr.maybeUpdate(m.index())) {
                    switch (pr.state) {
                        case PROBE -> pr.becomeReplicate();
                        case SNAPSHOT -> { if (pr.match >= pr.pendingSnapshot) pr.becomeProbe(); }
                        case REPLICATE -> pr.freeInflightsUpTo(m.index());
                    }
                    if (maybeCommit()) {
                        bcastAppend();
                    } else {
                        while (sendAppend(m.from(), false)) { /* fill the window */ }
                    }
                    if (m.from() == leadTransferee && pr.match == log.lastIndex()) {
                        send(msg(MessageType.TIMEOUT_NOW, m.from(), term).build());
                    }
                }
            }
            case HEARTBEAT_RESPONSE -> {
                if (pr == null) return;
                pr.recentActive = true;
                pr.probeSent = false;
                if (pr.state == Progress.State.REPLICATE && pr.inflightFull()) pr.freeFirstInflight();
                if (pr.match < log.lastIndex()) sendAppend(m.from(), true);
                if (m.context().length == 8 && !pr.learner) {
                    long s = ByteBuffer.wrap(m.context()).getLong();
                    if (s > pr.readAck) {
                        pr.readAck = s;
                        releaseReads();
                    }
                }
            }
            case READ_INDEX_RESPONSE, VOTE_RESPONSE, PRE_VOTE_RESPONSE, TIMEOUT_NOW -> { /* stale: ignore */ }
            default -> { /* APPEND/HEARTBEAT/SNAPSHOT at our term cannot come from another leader */ }
        }
    }

    private void stepCandidate(Message m) {
        switch (m.type()) {
            case APPEND -> { becomeFollower(m.term(), m.from()); handleAppend(m); }
            case HEARTBEAT -> { becomeFollower(m.term(), m.from()); handleHeartbeat(m); }
            case SNAPSHOT -> { becomeFollower(m.term(), m.from()); handleSnapshot(m); }
            case VOTE_RESPONSE, PRE_VOTE_RESPONSE -> {
                boolean pre = m.type() == MessageType.PRE_VOTE_RESPONSE;
                if (pre != (role == Role.PRE_CANDIDATE)) return;
                int res = recordVote(m.from(), !m.reject());
                if (res == 1) {
                    if (pre) campaignRound(false, false); else becomeLeaderAndBroadcast();
                } else if (res == -1) {
                    becomeFollower(term, 0);
                }
            }
            default -> { }
        }
    }

    private void stepFollower(Message m) {
        switch (m.type()) {
            case APPEND -> { electionElapsed = 0; leaderId = m.from(); handleAppend(m); }
            case HEARTBEAT -> { electionElapsed = 0; leaderId = m.from(); handleHeartbeat(m); }
            case SNAPSHOT -> { electionElapsed = 0; leaderId = m.from(); handleSnapshot(m); }
            case TIMEOUT_NOW -> hup(true);
            case READ_INDEX_RESPONSE -> readStates.add(new ReadState(m.index(), m.context()));
            default -> { }
        }
    }

    private void handleAppend(Message m) {
        if (m.index() < log.committed) {
            send(msg(MessageType.APPEND_RESPONSE, m.from(), term).index(log.committed).build());
            return;
        }
        if (log.matchTerm(m.index(), m.logTerm())) {
            long lastNew = m.index() + m.entries().size();
            long conflict = log.findConflict(m.entries());
            if (conflict != 0) {
                if (conflict <= log.committed) {
                    throw new IllegalStateException("entry " + conflict + " conflicts with committed log (commit " + log.committed + ")");
                }
                List<Entry> es = m.entries();
                log.append(es.subList((int) (conflict - (m.index() + 1)), es.size()));
            }
            log.commitTo(Math.min(m.commit(), lastNew));
            send(msg(MessageType.APPEND_RESPONSE, m.from(), term).index(lastNew).build());
        } else {
            long hintIndex = log.findConflictByTerm(Math.min(m.index(), log.lastIndex()), m.logTerm());
            long hintTerm = log.term(hintIndex);
            send(msg(MessageType.APPEND_RESPONSE, m.from(), term).index(m.index()).reject(true)
                    .rejectHint(hintIndex).logTerm(Math.max(hintTerm, 0)).build());
        }
    }

    private void handleHeartbeat(Message m) {
        log.commitTo(Math.max(log.committed, m.commit()));
        send(msg(MessageType.HEARTBEAT_RESPONSE, m.from(), term).context(m.context()).build());
    }

    private void handleSnapshot(Message m) {
        Snapshot s = m.snapshot();
        if (s == null) return;
        if (s.index() <= log.committed) {
            send(msg(MessageType.APPEND_RESPONSE, m.from(), term).index(log.committed).build());
            return;
        }
        if (log.matchTerm(s.index(), s.term())) {
            log.commitTo(s.index());
            send(msg(MessageType.APPEND_RESPONSE, m.from(), term).index(log.committed).build());
            return;
        }
        log.restore(s);
        voters.clear();
        learners.clear();
        voters.addAll(s.confState().voters());
        learners.addAll(s.confState().learners());
        send(msg(MessageType.APPEND_RESPONSE, m.from(), term).index(log.lastIndex()).build());
    }

    // ------------------------------------------------------------------ leader replication

    private boolean appendProposal(Entry e) {
        if (leadTransferee != 0) return false;
        if (log.lastIndex() - log.committed >= cfg.maxUncommittedEntries) return false;
        if (e.type() == EntryType.CONF_CHANGE) {
            if (pendingConfIndex > log.applied) return false;
            ConfChange cc = ConfChange.decode(e.data());
            if (cc.type() == ConfChangeType.REMOVE_NODE && voters.size() == 1 && voters.contains(cc.nodeId())) {
                return false; // would leave no voter
            }
        }
        appendEntries(List.of(e));
        if (e.type() == EntryType.CONF_CHANGE) pendingConfIndex = log.lastIndex();
        bcastAppend();
        return true;
    }

    private void appendEntries(List<Entry> es) {
        long li = log.lastIndex();
        List<Entry> out = new ArrayList<>(es.size());
        for (Entry e : es) out.add(new Entry(term, ++li, e.type(), e.data()));
        log.append(out);
        prs.get(id).maybeUpdate(log.lastIndex());
        maybeCommit();
    }

    private boolean maybeCommit() {
        if (voters.isEmpty()) return false;
        long[] matches = new long[voters.size()];
        int i = 0;
        for (long v : voters) {
            Progress pr = prs.get(v);
            matches[i++] = pr == null ? 0 : pr.match;
        }
        Arrays.sort(matches);
        long mci = matches[matches.length - quorum()];
        if (mci > log.committed && log.term(mci) == term) {
            log.commitTo(mci);
            onCommitAdvanced();
            return true;
        }
        return false;
    }

    private void onCommitAdvanced() {
        if (!readsAwaitingCommit.isEmpty() && log.term(log.committed) == term) {
            List<PendingRead> w = new ArrayList<>(readsAwaitingCommit);
            readsAwaitingCommit.clear();
            for (PendingRead r : w) leaderReadIndex(r.ctx(), r.from());
        }
    }

    private void bcastAppend() {
        for (long p : prs.keySet()) if (p != id) sendAppend(p, true);
    }

    private void bcastHeartbeat() {
        byte[] ctx = readSeqBroadcast > 0 ? ByteBuffer.allocate(8).putLong(readSeqBroadcast).array() : null;
        for (Map.Entry<Long, Progress> e : prs.entrySet()) {
            if (e.getKey() == id) continue;
            long commit = Math.min(e.getValue().match, log.committed);
            send(msg(MessageType.HEARTBEAT, e.getKey(), term).commit(commit).context(ctx).build());
        }
    }

    /** Sends an append (or snapshot) to p if flow control allows. Returns true if entries were sent. */
    private boolean sendAppend(long p, boolean sendIfEmpty) {
        Progress pr = prs.get(p);
        if (pr == null || pr.isPaused()) return false;
        long prevIndex = pr.next - 1;
        long prevTerm = log.term(prevIndex);
        // The entries p needs are compacted away or lost their data (payloadTrimmedTo >= snapIndex).
        if (prevTerm < 0 || prevIndex < log.payloadTrimmedTo) return sendSnapshot(p, pr);
        List<Entry> ents = log.slice(pr.next, log.lastIndex(), cfg.maxMessageBytes);
        if (ents.isEmpty() && !sendIfEmpty) return false;
        send(msg(MessageType.APPEND, p, term).logTerm(prevTerm).index(prevIndex).entries(ents)
                .commit(log.committed).build());
        if (!ents.isEmpty()) {
            if (pr.state == Progress.State.REPLICATE) {
                long last = ents.get(ents.size() - 1).index();
                pr.next = last + 1;
                pr.addInflight(last);
            } else if (pr.state == Progress.State.PROBE) {
                pr.probeSent = true;
            }
            return pr.state == Progress.State.REPLICATE;
        }
        if (pr.state == Progress.State.PROBE) pr.probeSent = true;
        return false;
    }

    private boolean sendSnapshot(long p, Progress pr) {
        Snapshot s = log.snapshot;
        if (log.payloadTrimmedTo > log.snapIndex && (s == null || s.index() < log.payloadTrimmedTo)) {
            // The entries the peer needs lost their data: describe the state at the trim point (the
            // application sends its store as of that index or later).
            long at = log.payloadTrimmedTo;
            s = new Snapshot(at, log.term(at), confState(), Entry.NO_DATA);
        }
        if (s == null) throw new IllegalStateException("log compacted but no snapshot available");
        if (!pr.recentActive) return false;
        send(msg(MessageType.SNAPSHOT, p, term).snapshot(s).build());
        pr.becomeSnapshot(s.index());
        return false;
    }

    // ------------------------------------------------------------------ leadership transfer

    private void leaderTransfer(long target) {
        if (target == id || !voters.contains(target)) return;
        if (leadTransferee == target) return;
        leadTransferee = target;
        electionElapsed = 0;
        Progress pr = prs.get(target);
        if (pr != null && pr.match == log.lastIndex()) {
            send(msg(MessageType.TIMEOUT_NOW, target, term).build());
        } else {
            sendAppend(target, true);
        }
    }

    // ------------------------------------------------------------------ read index

    private void leaderReadIndex(byte[] ctx, long from) {
        if (voters.size() == 1 && voters.contains(id)) {
            respondRead(new PendingRead(0, log.committed, ctx, from));
            return;
        }
        if (log.term(log.committed) != term) {
            readsAwaitingCommit.add(new PendingRead(0, 0, ctx, from));
            return;
        }
        pendingReads.addLast(new PendingRead(++readSeq, log.committed, ctx, from));
    }

    private void flushReads() {
        if (role == Role.LEADER && readSeq > readSeqBroadcast && !pendingReads.isEmpty()) {
            readSeqBroadcast = readSeq;
            bcastHeartbeat();
        }
    }

    private void releaseReads() {
        if (role != Role.LEADER || pendingReads.isEmpty()) return;
        long[] acks = new long[voters.size()];
        int i = 0;
        for (long v : voters) {
            Progress pr = prs.get(v);
            acks[i++] = v == id ? Long.MAX_VALUE : (pr == null ? 0 : pr.readAck);
        }
        Arrays.sort(acks);
        long confirmed = acks[acks.length - quorum()];
        while (!pendingReads.isEmpty() && pendingReads.peekFirst().seq() <= confirmed) {
            respondRead(pendingReads.pollFirst());
        }
    }

    private void respondRead(PendingRead r) {
        if (r.from() == id) {
            readStates.add(new ReadState(r.index(), r.ctx()));
        } else {
            send(msg(MessageType.READ_INDEX_RESPONSE, r.from(), term).index(r.index()).context(r.ctx()).build());
        }
    }

    // ------------------------------------------------------------------ messages

    private void send(Message m) { msgs.add(m); }

    private MsgBuilder msg(MessageType t, long to, long term) { return new MsgBuilder(t, id, to, term); }

    private static final class MsgBuilder {
        private final MessageType type;
        private final long from, to, term;
        private long logTerm, index, commit, rejectHint;
        private boolean reject;
        private List<Entry> entries = List.of();
        private byte[] context;
        private Snapshot snapshot;

        MsgBuilder(MessageType type, long from, long to, long term) {
            this.type = type; this.from = from; this.to = to; this.term = term;
        }
        MsgBuilder logTerm(long v) { logTerm = v; return this; }
        MsgBuilder index(long v) { index = v; return this; }
        MsgBuilder commit(long v) { commit = v; return this; }
        MsgBuilder rejectHint(long v) { rejectHint = v; return this; }
        MsgBuilder reject(boolean v) { reject = v; return this; }
        MsgBuilder entries(List<Entry> v) { entries = v; return this; }
        MsgBuilder context(byte[] v) { context = v; return this; }
        MsgBuilder snapshot(Snapshot v) { snapshot = v; return this; }
        Message build() {
            return new Message(type, from, to, term, logTerm, index, entries, commit, reject, rejectHint, context, snapshot);
        }
    }

    @Override public String toString() {
        return "RaftNode{" + id + " " + role + " t=" + term + " lead=" + leaderId + " last=" + log.lastIndex()
                + " commit=" + log.committed + " applied=" + log.applied + " voters=" + voters + " learners=" + learners + "}";
    }
}
