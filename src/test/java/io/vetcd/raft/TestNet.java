package io.vetcd.raft;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Simple synchronous in-memory cluster for unit tests: persists Readies in memory and delivers messages FIFO. */
final class TestNet {
    static final class Store {
        HardState hs;
        Snapshot snap;
        final List<Entry> entries = new ArrayList<>();
    }

    final Map<Long, RaftNode> nodes = new TreeMap<>();
    final Map<Long, Store> stores = new HashMap<>();
    final Map<Long, List<Entry>> applied = new HashMap<>();
    final Map<Long, List<ReadState>> reads = new HashMap<>();
    final ArrayDeque<Message> queue = new ArrayDeque<>();
    final Set<Long> isolated = new HashSet<>();
    final List<Long> voters;
    /** Every node's {@link RaftConfig#maxRetainedEntryBytes}. */
    private final long maxRetainedEntryBytes;

    TestNet(long... ids) {
        this(new RaftConfig().maxRetainedEntryBytes, ids);
    }

    /** A cluster whose nodes keep at most about {@code maxRetainedEntryBytes} of entry data in memory. */
    static TestNet withLogBudget(long maxRetainedEntryBytes, long... ids) {
        return new TestNet(maxRetainedEntryBytes, ids);
    }

    private TestNet(long maxRetainedEntryBytes, long[] ids) {
        this.maxRetainedEntryBytes = maxRetainedEntryBytes;
        voters = new ArrayList<>();
        for (long id : ids) voters.add(id);
        for (long id : ids) add(id, voters, List.of());
    }

    static RaftConfig config(long id, List<Long> voters) {
        RaftConfig c = new RaftConfig(id, voters);
        c.randomSeed = 42;
        return c;
    }

    RaftNode add(long id, List<Long> v, List<Long> learners) {
        RaftConfig c = config(id, v);
        c.learners = new ArrayList<>(learners);
        c.maxRetainedEntryBytes = maxRetainedEntryBytes;
        RaftNode n = RaftNode.start(c, null, null, List.of());
        nodes.put(id, n);
        stores.put(id, new Store());
        applied.put(id, new ArrayList<>());
        reads.put(id, new ArrayList<>());
        return n;
    }

    RaftNode node(long id) { return nodes.get(id); }

    /** Processes readies of all nodes and delivers messages until quiescent. */
    void settle() {
        for (int guard = 0; guard < 100_000; guard++) {
            boolean any = false;
            for (RaftNode n : nodes.values()) {
                if (n.hasReady()) { handle(n); any = true; }
            }
            Message m = queue.pollFirst();
            if (m != null) {
                any = true;
                RaftNode to = nodes.get(m.to());
                if (to != null && !isolated.contains(m.to()) && !isolated.contains(m.from())) {
                    // round-trip through the codec to exercise it
                    to.step(MessageCodec.decode(MessageCodec.encode(m)));
                }
            }
            if (!any) return;
        }
        throw new AssertionError("did not settle");
    }

    void handle(RaftNode n) {
        Ready r = n.ready();
        Store s = stores.get(n.id());
        if (r.snapshot() != null) { s.snap = r.snapshot(); s.entries.clear(); }
        if (!r.entries().isEmpty()) {
            long first = r.entries().get(0).index();
            s.entries.removeIf(e -> e.index() >= first);
            s.entries.addAll(r.entries());
        }
        if (r.hardState() != null) s.hs = r.hardState();
        queue.addAll(r.messages());
        for (Entry e : r.committedEntries()) {
            applied.get(n.id()).add(e);
            if (e.type() == EntryType.CONF_CHANGE) n.applyConfChange(ConfChange.decode(e.data()));
        }
        reads.get(n.id()).addAll(r.readStates());
        n.advance(r);
    }

    void tick(long id, int times) {
        for (int i = 0; i < times; i++) { nodes.get(id).tick(); settle(); }
    }

    void tickAll(int times) {
        for (int i = 0; i < times; i++) { for (RaftNode n : nodes.values()) n.tick(); settle(); }
    }

    long leader() {
        long l = 0;
        for (RaftNode n : nodes.values()) if (n.role() == Role.LEADER && !isolated.contains(n.id())) l = n.id();
        return l;
    }

    List<String> appliedData(long id) {
        List<String> r = new ArrayList<>();
        for (Entry e : applied.get(id)) if (e.type() == EntryType.NORMAL && e.data().length > 0) r.add(new String(e.data()));
        return r;
    }
}
