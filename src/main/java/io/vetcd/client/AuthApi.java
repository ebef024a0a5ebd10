package io.vetcd.client;

import io.vetcd.pb.AuthDisableRequest;
import io.vetcd.pb.AuthDisableResponse;
import io.vetcd.pb.AuthEnableRequest;
import io.vetcd.pb.AuthEnableResponse;
import io.vetcd.pb.AuthGrpcClient;
import io.vetcd.pb.AuthRoleAddRequest;
import io.vetcd.pb.AuthRoleAddResponse;
import io.vetcd.pb.AuthRoleGrantPermissionRequest;
import io.vetcd.pb.AuthRoleGrantPermissionResponse;
import io.vetcd.pb.AuthUserAddRequest;
import io.vetcd.pb.AuthUserAddResponse;
import io.vetcd.pb.AuthUserGrantRoleRequest;
import io.vetcd.pb.AuthUserGrantRoleResponse;
import io.vetcd.pb.AuthUserListRequest;
import io.vetcd.pb.AuthUserListResponse;
import io.vetcd.pb.AuthenticateRequest;
import io.vetcd.pb.AuthenticateResponse;
import io.vetcd.pb.Permission;
import reactor.core.publisher.Mono;

/** The auth calls needed to set up users and roles. Changes are never retried after being sent. */
public final class AuthApi {
  private final VetcdClient client;

  AuthApi(VetcdClient client) {
    this.client = client;
  }

  public Mono<AuthEnableResponse> enable() {
    return client.unary(AuthGrpcClient.AuthEnable, AuthEnableRequest.getDefaultInstance(), false);
  }

  public Mono<AuthDisableResponse> disable() {
    return client.unary(AuthGrpcClient.AuthDisable, AuthDisableRequest.getDefaultInstance(), false);
  }

  public Mono<AuthenticateResponse> authenticate(String name, String password) {
    return client.unary(AuthGrpcClient.Authenticate,
        AuthenticateRequest.newBuilder().setName(name).setPassword(password).build(), true);
  }

  public Mono<AuthUserAddResponse> userAdd(String name, String password) {
    return client.unary(AuthGrpcClient.UserAdd,
        AuthUserAddRequest.newBuilder().setName(name).setPassword(password).build(), false);
  }

  public Mono<AuthUserListResponse> userList() {
    return client.unary(AuthGrpcClient.UserList, AuthUserListRequest.getDefaultInstance(), true);
  }

  public Mono<AuthRoleAddResponse> roleAdd(String name) {
    return client.unary(AuthGrpcClient.RoleAdd, AuthRoleAddRequest.newBuilder().setName(name).build(), false);
  }

  public Mono<AuthUserGrantRoleResponse> userGrantRole(String user, String role) {
    return client.unary(AuthGrpcClient.UserGrantRole,
        AuthUserGrantRoleRequest.newBuilder().setUser(user).setRole(role).build(), false);
  }

  public Mono<AuthRoleGrantPermissionResponse> roleGrantPermission(String role, Permission permission) {
    return client.unary(AuthGrpcClient.RoleGrantPermission,
        AuthRoleGrantPermissionRequest.newBuilder().setName(role).setPerm(permission).build(), false);
  }
}
