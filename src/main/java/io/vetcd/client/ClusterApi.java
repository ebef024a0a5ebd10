package io.vetcd.client;

import io.vetcd.pb.ClusterGrpcClient;
import io.vetcd.pb.MemberAddRequest;
import io.vetcd.pb.MemberAddResponse;
import io.vetcd.pb.MemberListRequest;
import io.vetcd.pb.MemberListResponse;
import io.vetcd.pb.MemberPromoteRequest;
import io.vetcd.pb.MemberPromoteResponse;
import io.vetcd.pb.MemberRemoveRequest;
import io.vetcd.pb.MemberRemoveResponse;
import io.vetcd.pb.MemberUpdateRequest;
import io.vetcd.pb.MemberUpdateResponse;
import java.util.List;
import reactor.core.publisher.Mono;

/** Cluster membership. Only the member list is retried on failover. */
public final class ClusterApi {
  private final VetcdClient client;

  ClusterApi(VetcdClient client) {
    this.client = client;
  }

  public Mono<MemberListResponse> memberList() {
    return client.unary(ClusterGrpcClient.MemberList, MemberListRequest.getDefaultInstance(), true);
  }

  public Mono<MemberAddResponse> memberAdd(List<String> peerUrls, boolean learner) {
    return client.unary(ClusterGrpcClient.MemberAdd,
        MemberAddRequest.newBuilder().addAllPeerURLs(peerUrls).setIsLearner(learner).build(), false);
  }

  public Mono<MemberRemoveResponse> memberRemove(long id) {
    return client.unary(ClusterGrpcClient.MemberRemove, MemberRemoveRequest.newBuilder().setID(id).build(), false);
  }

  public Mono<MemberUpdateResponse> memberUpdate(long id, List<String> peerUrls) {
    return client.unary(ClusterGrpcClient.MemberUpdate,
        MemberUpdateRequest.newBuilder().setID(id).addAllPeerURLs(peerUrls).build(), false);
  }

  public Mono<MemberPromoteResponse> memberPromote(long id) {
    return client.unary(ClusterGrpcClient.MemberPromote, MemberPromoteRequest.newBuilder().setID(id).build(), false);
  }
}
