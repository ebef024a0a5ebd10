package io.vetcd.server;

import io.vetcd.mvcc.MvccStore;
import io.vetcd.pb.Member;
import io.vetcd.peer.Discovery;
import io.vetcd.wal.Wal;
import io.vetcd.wal.WalRecovered;
import io.vetcd.wal.WalSnapshotMarker;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who this member is and which cluster it belongs to, at start. A member's identity (its id and its
 * cluster's id) is kept in {@code member/identity} once known; the members themselves live in the
 * store's {@link MemberTable}. The first start of a member of a new cluster derives both from
 * {@code --initial-cluster} as etcd does; a member joining an existing cluster (added with
 * {@code member add}, started with {@code --initial-cluster-state existing}) asks a running member
 * for the cluster id and members, and finds itself among them by its peer URLs.
 */
public final class Bootstrap {
  private static final Logger log = LoggerFactory.getLogger(Bootstrap.class);

  private Bootstrap() {}

  public static Membership membership(ServerConfig config, MvccStore store, MemberTable members) throws Exception {
    Path identityFile = config.dataDir().resolve("member").resolve("identity");
    long localId;
    long clusterId;
    if (Files.exists(identityFile) && !members.isEmpty()) {
      String[] parts = Files.readString(identityFile, StandardCharsets.US_ASCII).trim().split("\\s+");
      localId = Long.parseUnsignedLong(parts[0], 16);
      clusterId = Long.parseUnsignedLong(parts[1], 16);
    } else if (!members.isEmpty() || config.initialClusterStateNew()) {
      Membership initial = Membership.fromInitialCluster(config.initialCluster(), config.clusterToken(), config.name(),
          config.advertiseClientUrls());
      if (members.isEmpty()) {
        members.seed(initial.clusterId(), initial.members(), List.of());
        store.commit();
      }
      localId = initial.localMemberId();
      clusterId = members.clusterId();
    } else {
      List<String> own = config.initialAdvertisePeerUrls();
      List<URI> ask = new ArrayList<>();
      for (Map.Entry<String, List<String>> e : config.initialCluster().entrySet()) {
        for (String url : e.getValue()) {
          if (!e.getKey().equals(config.name()) && !own.contains(url)) {
            ask.add(URI.create(url));
          }
        }
      }
      Discovery.ClusterInfo info = Discovery.ask(ask, 5000, Tls.peer(config).clientOptions());
      List<Member> found = ClusterService.parseMembers(info.members());
      Set<String> ownSet = new HashSet<>(own);
      Member self = found.stream().filter(m -> new HashSet<>(m.getPeerURLsList()).equals(ownSet)).findFirst()
          .orElseThrow(() -> new IllegalStateException("error validating peerURLs " + own
              + ": this member is not in the cluster (add it first: etcdctl member add " + config.name()
              + " --peer-urls=" + String.join(",", own) + ")"));
      localId = self.getID();
      clusterId = info.clusterId();
      members.seed(clusterId, found, List.of());
      store.commit();
      log.info("joining cluster {} as member {} ({} members)", Long.toHexString(clusterId), Long.toHexString(localId),
          found.size());
    }
    if (!Files.exists(identityFile)) {
      saveIdentity(config.dataDir(), localId, clusterId);
    }
    if (members.isRemoved(localId)) {
      throw new IllegalStateException("the member has been permanently removed from the cluster");
    }
    List<Member> list = new ArrayList<>();
    for (Member m : members.members()) {
      if (m.getID() == localId) {
        m = m.toBuilder().setName(config.name()).clearClientURLs().addAllClientURLs(config.advertiseClientUrls()).build();
      }
      list.add(m);
    }
    return new Membership(clusterId, localId, list);
  }

  /** Records a member's id and its cluster's id in {@code <dataDir>/member/identity}. */
  static void saveIdentity(Path dataDir, long localId, long clusterId) throws IOException {
    Path identityFile = dataDir.resolve("member").resolve("identity");
    Path tmp = identityFile.resolveSibling("identity.tmp");
    Files.writeString(tmp, String.format("%016x %016x%n", localId, clusterId), StandardCharsets.US_ASCII);
    Files.move(tmp, identityFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * The first log of a member of a new cluster, as etcd starts it: committed entries at term 1, one
   * per initial member (etcd's ConfChange entries; here no-ops, the members are already in the
   * store) and one for the cluster version etcd's first leader sets. The first election is then at
   * term 2, and the raft index that {@code endpoint status} shows follows etcd's: a new
   * one-member cluster is at index 4 once its leader and the member's attributes are in the log.
   */
  public static WalRecovered bootstrapLog(Wal wal, int initialMembers, WalRecovered recovered) throws IOException {
    List<io.vetcd.wal.WalEntry> entries = new ArrayList<>();
    for (int i = 1; i <= initialMembers + 1; i++) {
      entries.add(new io.vetcd.wal.WalEntry(1, i, io.vetcd.raft.EntryType.NORMAL.ordinal(), new byte[0]));
    }
    io.vetcd.wal.WalHardState hardState = new io.vetcd.wal.WalHardState(1, 0, entries.size());
    wal.append(entries, hardState);
    wal.sync();
    return new WalRecovered(hardState, null, List.copyOf(entries), recovered.tailRepaired(), recovered.bytesTruncated());
  }

  /**
   * The store can be ahead of the WAL after a crash between installing a leader's snapshot and
   * recording it in the WAL: the store is then the snapshot, and the WAL gets its marker.
   */
  public static WalRecovered storeAheadOfWal(Wal wal, MvccStore store, MemberTable members) throws IOException {
    WalRecovered r = wal.recovered();
    long last = !r.entries().isEmpty() ? r.entries().get(r.entries().size() - 1).index()
        : r.snapshot() == null ? 0 : r.snapshot().index();
    long applied = store.consistentIndex();
    if (applied <= last || members.appliedTerm() == 0) {
      return r;
    }
    log.warn("the store is at raft index {} but the WAL ends at {}: recording the store as the snapshot", applied, last);
    WalSnapshotMarker marker = new WalSnapshotMarker(applied, members.appliedTerm());
    wal.saveSnapshotMarker(marker);
    wal.sync();
    return new WalRecovered(r.hardState(), marker, List.of(), r.tailRepaired(), r.bytesTruncated());
  }
}
