package io.vetcd.auth;

import static io.vetcd.errors.GrpcCode.*;

import io.vetcd.errors.Errors;
import io.vetcd.errors.EtcdException;
import io.vetcd.errors.GrpcCode;

/** etcd 3.4's auth errors: gRPC code and exact message, as etcd 3.4.23 answers them. */
public final class AuthErrors {
  private AuthErrors() {}

  public static final EtcdException PERMISSION_DENIED = Errors.PERMISSION_DENIED_ERR;
  public static final EtcdException INVALID_AUTH_TOKEN = Errors.INVALID_AUTH_TOKEN;
  public static final EtcdException USER_EMPTY = Errors.USER_EMPTY;
  public static final EtcdException AUTH_FAILED = Errors.AUTH_FAILED;
  /** etcd 3.4 maps this one to no gRPC code: clients see UNKNOWN. */
  public static final EtcdException NO_PASSWORD_USER =
      new EtcdException(GrpcCode.UNKNOWN, "auth: authentication failed, password was given for no password user");
  public static final EtcdException ROLE_EMPTY = e(INVALID_ARGUMENT, "etcdserver: role name is empty");
  public static final EtcdException USER_ALREADY_EXIST = e(FAILED_PRECONDITION, "etcdserver: user name already exists");
  public static final EtcdException USER_NOT_FOUND = e(FAILED_PRECONDITION, "etcdserver: user name not found");
  public static final EtcdException ROLE_ALREADY_EXIST = e(FAILED_PRECONDITION, "etcdserver: role name already exists");
  public static final EtcdException ROLE_NOT_FOUND = e(FAILED_PRECONDITION, "etcdserver: role name not found");
  public static final EtcdException PERMISSION_NOT_GRANTED =
      e(FAILED_PRECONDITION, "etcdserver: permission is not granted to the role");
  public static final EtcdException ROLE_NOT_GRANTED = e(FAILED_PRECONDITION, "etcdserver: role is not granted to the user");
  public static final EtcdException ROOT_USER_NOT_EXIST = e(FAILED_PRECONDITION, "etcdserver: root user does not exist");
  public static final EtcdException ROOT_ROLE_NOT_EXIST = e(FAILED_PRECONDITION, "etcdserver: root user does not have root role");
  public static final EtcdException AUTH_NOT_ENABLED = e(FAILED_PRECONDITION, "etcdserver: authentication is not enabled");
  public static final EtcdException INVALID_AUTH_MGMT = e(INVALID_ARGUMENT, "etcdserver: invalid auth management");
  public static final EtcdException AUTH_OLD_REVISION = e(INVALID_ARGUMENT, "etcdserver: revision of auth store is old");
  /**
   * etcd 3.4's maintenance service (Hash, HashKV, Defragment, Snapshot) returns the auth store's raw
   * errors, which gRPC turns into code Unknown with the bare message.
   */
  public static final EtcdException MAINTENANCE_PERMISSION_DENIED = e(UNKNOWN, "auth: permission denied");
  public static final EtcdException MAINTENANCE_USER_EMPTY = e(UNKNOWN, "auth: user name is empty");
  public static final EtcdException MAINTENANCE_USER_NOT_FOUND = e(UNKNOWN, "auth: user name not found");

  private static EtcdException e(GrpcCode code, String message) {
    return new EtcdException(code, message);
  }
}
