package io.vetcd.client;

import io.vetcd.pb.AlarmRequest;
import io.vetcd.pb.AlarmResponse;
import io.vetcd.pb.DefragmentRequest;
import io.vetcd.pb.DefragmentResponse;
import io.vetcd.pb.HashKVRequest;
import io.vetcd.pb.HashKVResponse;
import io.vetcd.pb.MaintenanceGrpcClient;
import io.vetcd.pb.MoveLeaderRequest;
import io.vetcd.pb.MoveLeaderResponse;
import io.vetcd.pb.StatusRequest;
import io.vetcd.pb.StatusResponse;
import reactor.core.publisher.Mono;

/** Maintenance: status, alarms, hash, defragment, move leader. */
public final class MaintenanceApi {
  private final VetcdClient client;

  MaintenanceApi(VetcdClient client) {
    this.client = client;
  }

  /** Status of the member the client is talking to. */
  public Mono<StatusResponse> status() {
    return client.unary(MaintenanceGrpcClient.Status, StatusRequest.getDefaultInstance(), true);
  }

  /** Lists alarms (action GET), or activates/deactivates one. */
  public Mono<AlarmResponse> alarm(AlarmRequest request) {
    return client.unary(MaintenanceGrpcClient.Alarm, request,
        request.getAction() == AlarmRequest.AlarmAction.GET);
  }

  public Mono<HashKVResponse> hashKV(long revision) {
    return client.unary(MaintenanceGrpcClient.HashKV, HashKVRequest.newBuilder().setRevision(revision).build(), true);
  }

  public Mono<DefragmentResponse> defragment() {
    return client.unary(MaintenanceGrpcClient.Defragment, DefragmentRequest.getDefaultInstance(), false);
  }

  public Mono<MoveLeaderResponse> moveLeader(long targetId) {
    return client.unary(MaintenanceGrpcClient.MoveLeader, MoveLeaderRequest.newBuilder().setTargetID(targetId).build(),
        false);
  }
}
