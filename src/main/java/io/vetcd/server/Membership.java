package io.vetcd.server;

import io.vetcd.pb.Member;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The members of the cluster and their ids, derived from the initial cluster as etcd derives them. */
public record Membership(long clusterId, long localMemberId, List<Member> members) {

  public Membership {
    members = List.copyOf(members);
  }

  public static Membership fromInitialCluster(Map<String, List<String>> initialCluster, String token,
      String localName, List<String> localClientUrls) {
    List<Member> members = new ArrayList<>();
    long localId = 0;
    for (Map.Entry<String, List<String>> e : initialCluster.entrySet()) {
      List<String> peerUrls = e.getValue().stream().sorted().toList();
      long id = memberId(peerUrls, token);
      Member.Builder member = Member.newBuilder().setID(id).setName(e.getKey()).addAllPeerURLs(e.getValue());
      if (e.getKey().equals(localName)) {
        localId = id;
        member.addAllClientURLs(localClientUrls);
      }
      members.add(member.build());
    }
    long[] ids = members.stream().mapToLong(Member::getID).sorted().toArray();
    ByteBuffer buffer = ByteBuffer.allocate(8 * ids.length);
    for (long id : ids) {
      buffer.putLong(id);
    }
    return new Membership(first8(sha1(buffer.array())), localId, members);
  }

  /** etcd's member id: the first 8 bytes of SHA-1(sorted peer URLs joined + cluster token). */
  static long memberId(List<String> sortedPeerUrls, String token) {
    String joined = String.join("", sortedPeerUrls) + token;
    return first8(sha1(joined.getBytes(StandardCharsets.UTF_8)));
  }

  public List<Long> voterIds() {
    return members.stream().filter(m -> !m.getIsLearner()).map(Member::getID).toList();
  }

  private static byte[] sha1(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-1").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long first8(byte[] hash) {
    return ByteBuffer.wrap(hash, 0, 8).getLong();
  }
}
