package io.vetcd.raft;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Deterministic randomized simulation of a Raft cluster with an adversarial network, crashes that lose
 * unpersisted state, membership changes, leader transfers, reads and compaction.
 * <p>
 * {@code -Draft.sim.seeds=N} runs seeds 1..N (default 2000); {@code -Draft.sim.seed=S} replays one seed
 * ({@code -Draft.sim.trace=true} prints its events).
 */
class RaftSimulationTest {
    static final java.util.concurrent.atomic.AtomicLongArray STATS = new java.util.concurrent.atomic.AtomicLongArray(9);
    static final String[] STAT_NAMES = {"commits", "leaders", "confChangesApplied", "snapshotsInstalled", "readsServed", "crashes", "compactions", "transfers", "trimmedLogSnapshots"};

    @Test
    void random_seeds_preserve_raft_safety_and_converge_after_healing() throws Exception {
        String one = System.getProperty("raft.sim.seed");
        boolean trace = Boolean.getBoolean("raft.sim.trace");
        if (one != null) {
            long seed = Long.parseLong(one);
            try {
                new Sim(seed, trace).run();
            } catch (Throwable t) {
                throw new AssertionError("seed " + seed + " failed: " + t, t);
            }
            return;
        }
        int seeds = Integer.getInteger("raft.sim.seeds", 2000);
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        ConcurrentSkipListMap<Long, String> failures = new ConcurrentSkipListMap<>();
        AtomicInteger next = new AtomicInteger(1);
        long start = System.nanoTime();
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            fs.add(pool.submit(() -> {
                for (int s = next.getAndIncrement(); s <= seeds; s = next.getAndIncrement()) {
                    if (failures.size() >= 5) return;
                    try {
                        new Sim(s, false).run();
                    } catch (Throwable e) {
                        failures.put((long) s, String.valueOf(e));
                    }
                }
            }));
        }
        for (Future<?> f : fs) f.get();
        pool.shutdown();
        pool.awaitTermination(1, TimeUnit.MINUTES);
        System.out.printf("RaftSimulationTest: %d seeds in %.1fs%n", seeds, (System.nanoTime() - start) / 1e9);
        StringBuilder st = new StringBuilder("  totals:");
        for (int i = 0; i < STAT_NAMES.length; i++) st.append(' ').append(STAT_NAMES[i]).append('=').append(STATS.get(i));
        System.out.println(st);
        if (!failures.isEmpty()) {
            StringBuilder sb = new StringBuilder("simulation failures:\n");
            failures.forEach((s, e) -> sb.append("  seed ").append(s).append(": ").append(e)
                    .append("\n    replay: mvn test -Dtest=RaftSimulationTest -Draft.sim.seed=").append(s)
                    .append(" [-Draft.sim.trace=true]\n"));
            System.out.println(sb);
            fail(sb.toString());
        }
    }

    // =====================================================================================================

    static final class Sim {
        static final int ELECTION = 10;
        static final int CHAOS_TICKS = 400;
        static final int HEAL_TICKS = 400;

        final long seed;
        final boolean trace;
        final Random rnd;
        final Map<Long, SimNode> nodes = new TreeMap<>();
        final List<Long> initialVoters = new ArrayList<>();
        final List<Long> spareIds = new ArrayList<>();
        final PriorityQueue<InFlight> net = new PriorityQueue<>();
        final Set<Long> blocked = new HashSet<>(); // from * 1000 + to
        long now;
        long msgSeq;
        long proposalSeq;
        long readSeq;

        // fault parameters
        double loss, dup;
        int maxDelay;
        double crashP, partitionP, proposeP, confP, transferP, readP, compactP;
        boolean chaos = true;
        /** Half the seeds run with a tiny log memory budget, so entry data is trimmed all the time. */
        final Random trimRnd;
        final boolean trimLog;

        // global safety bookkeeping
        final Map<Long, Long> leaderOfTerm = new HashMap<>();
        final Map<Long, Long> committedTerm = new HashMap<>();
        final Map<Long, Long> appliedHashAt = new HashMap<>();
        final Map<EntryKey, Integer> entryData = new HashMap<>();
        final Map<Long, Long> readMinIndex = new HashMap<>();
        long maxCommit;

        record EntryKey(long index, long term) {}

        record InFlight(long at, long seq, Message m) implements Comparable<InFlight> {
            public int compareTo(InFlight o) {
                return at != o.at ? Long.compare(at, o.at) : Long.compare(seq, o.seq);
            }
        }

        final class SimNode {
            final long id;
            RaftNode raft;
            HardState hs;
            HardState hsUnsynced;
            Snapshot snap;
            final ArrayList<Entry> entries = new ArrayList<>();
            long applied;
            long hash;
            long lastCommit;
            boolean removed;
            long downUntil;

            SimNode(long id) { this.id = id; }

            void boot() {
                RaftConfig c = new RaftConfig(id, initialVoters);
                c.electionTimeoutTicks = ELECTION;
                c.heartbeatTicks = 1;
                c.randomSeed = seed * 31 + now;
                c.maxInflightMessages = 1 + rnd.nextInt(4);
                c.maxMessageBytes = 64 + rnd.nextInt(256);
                c.maxUncommittedEntries = 200;
                if (trimLog) c.maxRetainedEntryBytes = 1 + trimRnd.nextInt(300);
                if (snap != null) {
                    ByteBuffer b = ByteBuffer.wrap(snap.data());
                    applied = b.getLong();
                    hash = b.getLong();
                } else {
                    applied = 0;
                    hash = 0;
                }
                c.appliedIndex = applied;
                raft = RaftNode.start(c, hs, snap, new ArrayList<>(entries));
                lastCommit = raft.commitIndex();
                trace("boot " + raft);
            }
        }

        Sim(long seed, boolean trace) {
            this.seed = seed;
            this.trace = trace;
            this.rnd = new Random(seed);
            this.trimRnd = new Random(seed ^ 0x7e57L);
            this.trimLog = seed % 2 == 0;
        }

        void trace(String s) {
            if (trace) System.out.println("[" + now + "] " + s);
        }

        void check(boolean ok, String what) {
            if (!ok) throw new AssertionError("tick " + now + ": " + what);
        }

        void run() {
            int n = rnd.nextBoolean() ? 3 : 5;
            for (long i = 1; i <= n; i++) initialVoters.add(i);
            for (long i = n + 1; i <= 7; i++) spareIds.add(i);
            loss = rnd.nextDouble() * 0.2;
            dup = rnd.nextDouble() * 0.1;
            maxDelay = 1 + rnd.nextInt(5);
            crashP = rnd.nextDouble() * 0.02;
            partitionP = rnd.nextDouble() * 0.03;
            proposeP = 0.1 + rnd.nextDouble() * 0.5;
            confP = rnd.nextDouble() * 0.05;
            transferP = rnd.nextDouble() * 0.02;
            readP = rnd.nextDouble() * 0.2;
            compactP = rnd.nextDouble() * 0.05;
            for (long id : initialVoters) {
                SimNode s = new SimNode(id);
                nodes.put(id, s);
                s.boot();
            }
            if (rnd.nextBoolean()) { // sometimes kick off an election immediately
                SimNode s = nodes.get(initialVoters.get(rnd.nextInt(n)));
                s.raft.campaign();
                process(s);
            }
            for (now = 1; now <= CHAOS_TICKS; now++) {
                stepTime();
                chaosActions();
                if (now % 20 == 0) checkLogMatching();
            }
            // heal
            chaos = false;
            blocked.clear();
            for (SimNode s : nodes.values()) if (s.raft == null && !s.removed) s.boot();
            long healStart = now;
            long marker = -1;
            for (; now <= CHAOS_TICKS + HEAL_TICKS; now++) {
                stepTime();
                if (rnd.nextDouble() < proposeP * 0.2) propose();
                SimNode l = currentLeader();
                if (l != null && now - healStart > 5 && converged(l)) {
                    if (marker < 0) {
                        try {
                            l.raft.propose(("marker-" + seed).getBytes());
                            marker = l.raft.lastIndex();
                            process(l);
                        } catch (ProposalDroppedException e) { /* retry next tick */ }
                    } else if (l.raft.commitIndex() >= marker) {
                        checkLogMatching();
                        return;
                    }
                }
                if (now % 20 == 0) checkLogMatching();
            }
            StringBuilder sb = new StringBuilder("no convergence after healing (marker " + marker + "):");
            for (SimNode s : nodes.values()) sb.append("\n   ").append(s.raft == null ? s.id + " down" : s.raft.toString())
                    .append(s.removed ? " removed" : "").append(" applied=").append(s.applied);
            throw new AssertionError(sb.toString());
        }

        SimNode currentLeader() {
            SimNode best = null;
            for (SimNode s : nodes.values()) {
                if (s.raft != null && !s.removed && s.raft.role() == Role.LEADER
                        && (best == null || s.raft.term() > best.raft.term())) best = s;
            }
            return best;
        }

        boolean converged(SimNode l) {
            long last = l.raft.lastIndex();
            if (l.raft.commitIndex() != last) return false;
            ConfState cs = l.raft.confState();
            List<Long> members = new ArrayList<>(cs.voters());
            members.addAll(cs.learners());
            for (long id : members) {
                SimNode s = nodes.get(id);
                if (s == null || s.raft == null) return false;
                if (s.raft.lastIndex() != last || s.raft.commitIndex() != last || s.applied != last) return false;
                if (s.raft.leaderId() != l.id || s.raft.term() != l.raft.term()) return false;
            }
            return true;
        }

        void stepTime() {
            // deliver due messages
            while (!net.isEmpty() && net.peek().at() <= now) {
                Message m = net.poll().m();
                if (chaos && blocked.contains(m.from() * 1000 + m.to())) continue;
                SimNode to = nodes.get(m.to());
                if (to == null || to.raft == null) continue;
                trace("deliver " + m);
                to.raft.step(m);
                process(to);
            }
            for (SimNode s : nodes.values()) {
                if (s.raft == null) {
                    if (!s.removed && chaos && s.downUntil <= now) s.boot();
                    continue;
                }
                s.raft.tick();
                process(s);
            }
        }

        void chaosActions() {
            List<SimNode> live = new ArrayList<>();
            for (SimNode s : nodes.values()) if (s.raft != null) live.add(s);
            if (live.isEmpty()) return;
            if (rnd.nextDouble() < proposeP) propose();
            if (rnd.nextDouble() < readP) {
                SimNode s = live.get(rnd.nextInt(live.size()));
                if (s.raft == null) return;
                long rid = ++readSeq;
                readMinIndex.put(rid, maxCommit);
                try {
                    s.raft.readIndex(ByteBuffer.allocate(8).putLong(rid).array());
                    process(s);
                } catch (ProposalDroppedException e) { /* fine */ }
            }
            if (rnd.nextDouble() < confP) confChange();
            if (rnd.nextDouble() < transferP) {
                SimNode s = live.get(rnd.nextInt(live.size()));
                if (s.raft == null) return;
                List<Long> vs = s.raft.confState().voters();
                if (!vs.isEmpty()) {
                    long target = vs.get(rnd.nextInt(vs.size()));
                    trace("transfer " + s.id + " -> " + target);
                    STATS.incrementAndGet(7);
                    s.raft.transferLeadership(target);
                    process(s);
                }
            }
            if (rnd.nextDouble() < crashP) {
                SimNode s = live.get(rnd.nextInt(live.size()));
                if (s.raft != null) crash(s);
            }
            if (rnd.nextDouble() < partitionP) {
                blocked.clear();
                int kind = rnd.nextInt(4);
                List<Long> ids = new ArrayList<>(nodes.keySet());
                if (kind == 0) {
                    trace("partition healed");
                } else if (kind == 1) { // symmetric split
                    Set<Long> side = new HashSet<>();
                    for (long id : ids) if (rnd.nextBoolean()) side.add(id);
                    for (long a : ids) for (long b : ids) if (side.contains(a) != side.contains(b)) blocked.add(a * 1000 + b);
                    trace("partition " + side);
                } else { // one-way cuts
                    int cuts = 1 + rnd.nextInt(4);
                    for (int i = 0; i < cuts; i++) {
                        long a = ids.get(rnd.nextInt(ids.size())), b = ids.get(rnd.nextInt(ids.size()));
                        blocked.add(a * 1000 + b);
                    }
                    trace("one-way cuts " + blocked);
                }
            }
        }

        void propose() {
            List<SimNode> live = new ArrayList<>();
            for (SimNode s : nodes.values()) if (s.raft != null) live.add(s);
            if (live.isEmpty()) return;
            SimNode s = live.get(rnd.nextInt(live.size()));
            try {
                s.raft.propose(("p" + seed + "-" + (++proposalSeq)).getBytes());
                process(s);
            } catch (ProposalDroppedException e) { /* fine */ }
        }

        void confChange() {
            SimNode l = currentLeader();
            if (l == null) return;
            ConfState cs = l.raft.confState();
            ConfChange cc = null;
            int r = rnd.nextInt(4);
            if (r == 0 && !cs.learners().isEmpty()) {
                cc = new ConfChange(ConfChangeType.PROMOTE_LEARNER, cs.learners().get(rnd.nextInt(cs.learners().size())), null);
            } else if (r == 1 && !spareIds.isEmpty() && cs.voters().size() + cs.learners().size() < 7) {
                long id = spareIds.get(0);
                cc = new ConfChange(ConfChangeType.ADD_LEARNER, id, null);
            } else if (r == 2 && cs.voters().size() > 3) {
                cc = new ConfChange(ConfChangeType.REMOVE_NODE, cs.voters().get(rnd.nextInt(cs.voters().size())), null);
            } else if (r == 3 && !cs.learners().isEmpty()) {
                cc = new ConfChange(ConfChangeType.REMOVE_NODE, cs.learners().get(rnd.nextInt(cs.learners().size())), null);
            }
            if (cc == null) return;
            try {
                l.raft.proposeConfChange(cc);
                trace("conf change proposed " + cc.type() + " " + cc.nodeId() + " by " + l.id);
                if (cc.type() == ConfChangeType.ADD_LEARNER) {
                    spareIds.remove(0);
                    SimNode s = new SimNode(cc.nodeId());
                    nodes.put(s.id, s);
                    s.boot();
                }
                process(l);
            } catch (ProposalDroppedException e) { /* one at a time */ }
        }

        static boolean sendableBeforeSync(Message m) {
            return m.type() == MessageType.APPEND || m.type() == MessageType.HEARTBEAT;
        }

        void crash(SimNode s) {
            trace("crash " + s.id);
            s.hsUnsynced = null;
            STATS.incrementAndGet(5);
            s.raft = null;
            s.downUntil = now + 1 + rnd.nextInt(3 * ELECTION);
        }

        void send(Message m) {
            if (m.type() == MessageType.SNAPSHOT && m.snapshot().data().length == 0) {
                m = withStateMachineSnapshot(m);
            }
            if (chaos && rnd.nextDouble() < loss) return;
            int copies = chaos && rnd.nextDouble() < dup ? 2 : 1;
            for (int i = 0; i < copies; i++) {
                long delay = chaos ? rnd.nextInt(maxDelay + 1) : rnd.nextInt(2);
                // exercise the wire codec on a fraction of messages
                Message mm = rnd.nextInt(8) == 0 ? MessageCodec.decode(MessageCodec.encode(m)) : m;
                net.add(new InFlight(now + delay, msgSeq++, mm));
            }
        }

        /**
         * As the RaftVerticle: a snapshot the raft node describes without data (its log's entries lost
         * their data) goes out as the sender's state machine at its applied index (at or after it).
         */
        Message withStateMachineSnapshot(Message m) {
            SimNode from = nodes.get(m.from());
            RaftNode r = from.raft;
            check(from.applied >= m.snapshot().index(), "snapshot at " + m.snapshot().index() + " beyond applied " + from.applied);
            byte[] data = ByteBuffer.allocate(16).putLong(from.applied).putLong(from.hash).array();
            STATS.incrementAndGet(8);
            Snapshot sn = new Snapshot(from.applied, r.termAt(from.applied), r.confState(), data);
            return new Message(m.type(), m.from(), m.to(), m.term(), m.logTerm(), m.index(), m.entries(), m.commit(),
                    m.reject(), m.rejectHint(), m.context(), sn);
        }

        /** The application's Ready loop for one node, with crash points. */
        void process(SimNode s) {
            while (s.raft != null && s.raft.hasReady()) {
                RaftNode raft = s.raft;
                Ready r = raft.ready();
                if (chaos && rnd.nextDouble() < crashP * 0.2) { crash(s); return; } // lost before persisting
                // As the RaftVerticle: a leader whose term and vote are already durable replicates while
                // its own fsync runs; a crash may come after the followers got entries the leader lost.
                boolean termOrVoteChanged = r.hardState() != null && (s.hs == null
                        || r.hardState().term() != s.hs.term() || r.hardState().votedFor() != s.hs.votedFor());
                boolean sentEarly = raft.role() == Role.LEADER && !termOrVoteChanged && r.snapshot() == null;
                if (sentEarly) {
                    for (Message m : r.messages()) if (sendableBeforeSync(m)) send(m);
                    if (chaos && rnd.nextDouble() < crashP * 0.2) { crash(s); return; } // replicated, not persisted
                }
                // persist
                if (r.snapshot() != null) {
                    Snapshot sn = r.snapshot();
                    s.snap = sn;
                    s.entries.clear();
                    ByteBuffer b = ByteBuffer.wrap(sn.data());
                    long idx = b.getLong(), h = b.getLong();
                    check(idx == sn.index(), "snapshot data index mismatch");
                    checkApplied(idx, h, s.id);
                    check(idx > s.applied, "snapshot " + idx + " does not advance applied " + s.applied + " on " + s.id);
                    s.applied = idx;
                    s.hash = h;
                    STATS.incrementAndGet(3);
                    trace(s.id + " installed snapshot " + idx);
                }
                if (!r.entries().isEmpty()) {
                    long first = r.entries().get(0).index();
                    s.entries.removeIf(e -> e.index() >= first);
                    long expect = s.snap == null ? 1 : s.snap.index() + 1;
                    if (!s.entries.isEmpty()) expect = s.entries.get(s.entries.size() - 1).index() + 1;
                    check(first == expect, s.id + " persisted entries not contiguous: " + first + " expected " + expect);
                    for (Entry e : r.entries()) {
                        Integer prev = entryData.putIfAbsent(new EntryKey(e.index(), e.term()), Arrays.hashCode(e.data()));
                        check(prev == null || prev == Arrays.hashCode(e.data()),
                                "two different entries with index " + e.index() + " term " + e.term());
                        s.entries.add(e);
                    }
                }
                boolean synced = termOrVoteChanged || !r.entries().isEmpty() || r.snapshot() != null;
                if (synced && s.hsUnsynced != null) {
                    s.hs = s.hsUnsynced; // a sync makes the earlier unsynced write durable too
                    s.hsUnsynced = null;
                }
                if (r.hardState() != null && !synced) {
                    // only the commit index moved: written, not synced (lost if the machine crashes)
                    s.hsUnsynced = r.hardState();
                } else if (r.hardState() != null) {
                    s.hsUnsynced = null;
                    HardState hs = r.hardState();
                    if (s.hs != null) {
                        check(hs.term() >= s.hs.term(), "persisted term went backwards on " + s.id);
                        check(hs.commit() >= s.hs.commit(), "persisted commit went backwards on " + s.id);
                        check(hs.term() > s.hs.term() || s.hs.votedFor() == 0 || hs.votedFor() == s.hs.votedFor(),
                                "vote changed within a term on " + s.id);
                    }
                    s.hs = hs;
                }
                if (chaos && rnd.nextDouble() < crashP * 0.2) { crash(s); return; } // persisted, not sent
                for (Message m : r.messages()) if (!(sentEarly && sendableBeforeSync(m))) send(m);
                for (Entry e : r.committedEntries()) {
                    check(e.index() == s.applied + 1, s.id + " applied " + e.index() + " after " + s.applied);
                    s.hash = s.hash * 1_000_003L + Arrays.hashCode(e.data()) + e.term();
                    s.applied = e.index();
                    checkApplied(e.index(), s.hash, s.id);
                    if (e.type() == EntryType.CONF_CHANGE) {
                        ConfChange cc = ConfChange.decode(e.data());
                        raft.applyConfChange(cc);
                        STATS.incrementAndGet(2);
                        trace(s.id + " applied conf change " + cc.type() + " " + cc.nodeId() + " -> " + raft.confState());
                        if (cc.type() == ConfChangeType.REMOVE_NODE && cc.nodeId() != s.id) {
                            SimNode gone = nodes.get(cc.nodeId());
                            if (gone != null && !gone.removed) {
                                gone.removed = true;
                                gone.raft = null; // a removed member shuts down
                                trace("shut down removed " + gone.id);
                            }
                        }
                        if (cc.type() == ConfChangeType.REMOVE_NODE && cc.nodeId() == s.id) s.removed = true;
                    }
                }
                for (ReadState rs : r.readStates()) {
                    long rid = ByteBuffer.wrap(rs.requestContext()).getLong();
                    Long min = readMinIndex.get(rid);
                    check(min != null, "unknown read");
                    check(rs.index() >= min, "stale read index " + rs.index() + " < " + min + " on " + s.id);
                    STATS.incrementAndGet(4);
                }
                raft.advance(r);
                checkNode(s);
                if (s.removed) { s.raft = null; return; }
                if (chaos && rnd.nextDouble() < compactP && s.applied - raft.snapIndex() > 5) {
                    long idx = s.applied - rnd.nextInt(3);
                    if (idx == s.applied) {
                        byte[] data = ByteBuffer.allocate(16).putLong(s.applied).putLong(s.hash).array();
                        long t = raft.termAt(idx);
                        raft.compact(idx, data);
                        s.snap = new Snapshot(idx, t, raft.confState(), data);
                        s.entries.removeIf(e -> e.index() <= idx);
                        trace(s.id + " compacted to " + idx);
                        STATS.incrementAndGet(6);
                    }
                }
            }
        }

        void checkApplied(long index, long hash, long id) {
            Long prev = appliedHashAt.putIfAbsent(index, hash);
            check(prev == null || prev == hash, "state machine divergence at index " + index + " on node " + id);
        }

        void checkNode(SimNode s) {
            RaftNode r = s.raft;
            long c = r.commitIndex();
            check(c >= s.lastCommit, "commit went backwards on " + s.id);
            for (long i = Math.max(s.lastCommit, r.snapIndex()) + 1; i <= c; i++) {
                long t = r.termAt(i);
                Long prev = committedTerm.putIfAbsent(i, t);
                check(prev == null || prev == t, "committed entry " + i + " differs (term " + t + " vs " + prev + ") on " + s.id);
                if (prev == null) STATS.incrementAndGet(0);
            }
            s.lastCommit = c;
            maxCommit = Math.max(maxCommit, c);
            if (r.role() == Role.LEADER) {
                Long prev = leaderOfTerm.putIfAbsent(r.term(), s.id);
                check(prev == null || prev == s.id, "two leaders in term " + r.term() + ": " + prev + " and " + s.id);
                if (prev == null) { // newly elected: leader completeness
                    for (long i = r.snapIndex() + 1; i <= maxCommit; i++) {
                        Long ct = committedTerm.get(i);
                        if (ct == null) continue;
                        check(i <= r.lastIndex() && r.termAt(i) == ct,
                                "leader " + s.id + " of term " + r.term() + " misses committed entry " + i);
                    }
                    trace("leader " + r);
                    STATS.incrementAndGet(1);
                }
            }
        }

        void checkLogMatching() {
            List<SimNode> live = new ArrayList<>();
            for (SimNode s : nodes.values()) if (s.raft != null) live.add(s);
            for (int a = 0; a < live.size(); a++) {
                for (int b = a + 1; b < live.size(); b++) {
                    RaftNode x = live.get(a).raft, y = live.get(b).raft;
                    long lo = Math.max(x.snapIndex(), y.snapIndex()) + 1;
                    long hi = Math.min(x.lastIndex(), y.lastIndex());
                    long top = 0;
                    for (long i = hi; i >= lo; i--) {
                        if (x.termAt(i) == y.termAt(i)) { top = i; break; }
                    }
                    long trimmed = Math.max(x.payloadTrimmedTo(), y.payloadTrimmedTo());
                    for (long i = lo; i <= top; i++) {
                        Entry ex = x.entryAt(i), ey = y.entryAt(i);
                        check(ex.term() == ey.term() && (i <= trimmed || Arrays.equals(ex.data(), ey.data())),
                                "log matching violated at " + i + " between " + x.id() + " and " + y.id());
                    }
                }
            }
        }
    }
}
