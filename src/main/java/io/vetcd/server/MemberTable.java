package io.vetcd.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.vetcd.pb.Member;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The cluster's members as the applied log says, kept in the store's cluster table so that they are
 * committed with the data and travel in snapshots: the cluster id, every member (id, name, peer and
 * client URLs, learner flag), the ids of removed members, and the term of the last applied entry.
 *
 * <p>Every change is absolute (put, remove), so applying a membership change twice is harmless.
 */
public final class MemberTable {
  private static final String CLUSTER_ID = "id";
  private static final String APPLIED_TERM = "term";
  private static final String MEMBER = "m/";
  private static final String REMOVED = "r/";

  private final Map<String, byte[]> table;

  public MemberTable(Map<String, byte[]> table) {
    this.table = table;
  }

  public boolean isEmpty() {
    return !table.containsKey(CLUSTER_ID);
  }

  /** Writes the initial cluster (a new cluster, or what a joining member learned from its peers). */
  public void seed(long clusterId, Collection<Member> members, Collection<Long> removed) {
    table.put(CLUSTER_ID, longBytes(clusterId));
    for (Member m : members) {
      put(m);
    }
    for (long id : removed) {
      table.put(REMOVED + hex(id), new byte[0]);
    }
  }

  public long clusterId() {
    byte[] b = table.get(CLUSTER_ID);
    return b == null ? 0 : ByteBuffer.wrap(b).getLong();
  }

  public long appliedTerm() {
    byte[] b = table.get(APPLIED_TERM);
    return b == null ? 0 : ByteBuffer.wrap(b).getLong();
  }

  public void setAppliedTerm(long term) {
    if (term != appliedTerm()) {
      table.put(APPLIED_TERM, longBytes(term));
    }
  }

  /** The members, sorted by id (unsigned), as etcd lists them. */
  public List<Member> members() {
    List<Member> members = new ArrayList<>();
    for (Map.Entry<String, byte[]> e : table.entrySet()) {
      if (e.getKey().startsWith(MEMBER)) {
        members.add(parse(e.getValue()));
      }
    }
    members.sort((a, b) -> Long.compareUnsigned(a.getID(), b.getID()));
    return members;
  }

  public Member get(long id) {
    byte[] b = table.get(MEMBER + hex(id));
    return b == null ? null : parse(b);
  }

  public void put(Member m) {
    table.put(MEMBER + hex(m.getID()), m.toByteArray());
  }

  public void remove(long id) {
    table.remove(MEMBER + hex(id));
    table.put(REMOVED + hex(id), new byte[0]);
  }

  public boolean isRemoved(long id) {
    return table.containsKey(REMOVED + hex(id));
  }

  public Set<Long> removed() {
    Set<Long> ids = new HashSet<>();
    for (String k : table.keySet()) {
      if (k.startsWith(REMOVED)) {
        ids.add(Long.parseUnsignedLong(k.substring(REMOVED.length()), 16));
      }
    }
    return ids;
  }

  public List<Long> voters() {
    return members().stream().filter(m -> !m.getIsLearner()).map(Member::getID).toList();
  }

  public List<Long> learners() {
    return members().stream().filter(Member::getIsLearner).map(Member::getID).toList();
  }

  static String hex(long id) {
    return String.format("%016x", id);
  }

  private static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  private static Member parse(byte[] b) {
    try {
      return Member.parseFrom(b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt member record", e);
    }
  }
}
