package io.vetcd.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.Raft;
import io.vetcd.errors.Errors;
import io.vetcd.errors.EtcdException;
import io.vetcd.errors.GrpcCode;
import io.vetcd.pb.Member;
import io.vetcd.pb.MemberAddRequest;
import io.vetcd.pb.MemberAddResponse;
import io.vetcd.pb.MemberListResponse;
import io.vetcd.pb.MemberPromoteRequest;
import io.vetcd.pb.MemberPromoteResponse;
import io.vetcd.pb.MemberRemoveRequest;
import io.vetcd.pb.MemberRemoveResponse;
import io.vetcd.pb.MemberUpdateRequest;
import io.vetcd.pb.MemberUpdateResponse;
import io.vetcd.pb.ResponseHeader;
import io.vetcd.raft.ConfChange;
import io.vetcd.raft.ConfChangeType;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's Cluster API writes (MemberAdd, MemberRemove, MemberUpdate, MemberPromote) as raft membership
 * changes. Runs on the apply verticle's context and reads its {@link MemberTable}. A follower forwards
 * the call to the leader, which checks it against the applied membership, proposes the change and
 * answers once it has applied it. Every member applies the committed change to its member table.
 *
 * <p>A change's context: proposer member id (8) | request id (8) | the {@link Member} proto.
 */
public final class ClusterService {
  private static final Logger log = LoggerFactory.getLogger(ClusterService.class);
  /** First byte of a call forwarded to the leader; the second says which request follows. */
  public static final byte FORWARD_MEMBER_CHANGE = 10;
  static final EtcdException LEARNER_NOT_READY = new EtcdException(GrpcCode.FAILED_PRECONDITION,
      "etcdserver: can only promote a learner member which is in sync with leader");
  static final EtcdException TOO_MANY_LEARNERS = new EtcdException(GrpcCode.FAILED_PRECONDITION,
      "etcdserver: too many learner members in cluster");
  static final EtcdException BAD_PEER_URLS = new EtcdException(GrpcCode.INVALID_ARGUMENT,
      "etcdserver: given member URLs are invalid");
  private static final int MAX_LEARNERS = 1;

  private record Pending(Promise<com.google.protobuf.Message> promise, com.google.protobuf.Message request,
      long timerId) {}

  private final Vertx vertx;
  private final MemberTable table;
  private final long localId;
  private final long timeoutMillis;
  private final Supplier<ResponseHeader> header;
  private final BooleanSupplier leader;
  private final LongSupplier leaderId;
  private final Map<Long, Pending> pending = new HashMap<>();
  private long nextRequestId = 1;
  /** Calls held on a member that knows no leader, each with one poll timer; bounded. */
  private int callsAwaitingLeader;
  private static final int CALLS_AWAITING_LEADER_MAX = 256;
  private static final long LEADER_POLL_MILLIS = 100;
  private boolean strictReconfigCheck = true;

  /** etcd's {@code HealthInterval}: a peer counts as active once connected this long. */
  static final long HEALTH_INTERVAL_MILLIS = 5000;

  public ClusterService(Vertx vertx, MemberTable table, long localId, long timeoutMillis,
      Supplier<ResponseHeader> header, BooleanSupplier leader, LongSupplier leaderId) {
    this.vertx = vertx;
    this.table = table;
    this.localId = localId;
    this.timeoutMillis = timeoutMillis;
    this.header = header;
    this.leader = leader;
    this.leaderId = leaderId;
  }

  /** etcd's {@code --strict-reconfig-check} (default true). */
  public ClusterService strictReconfigCheck(boolean strict) {
    this.strictReconfigCheck = strict;
    return this;
  }

  /** The cluster API header: no revision, as etcd. */
  private ResponseHeader clusterHeader() {
    return header.get().toBuilder().clearRevision().build();
  }

  /** A member change from a client: answered here if this member leads, else by the leader. */
  public void onRequest(Message<Object> message) {
    com.google.protobuf.Message request = (com.google.protobuf.Message) message.body();
    if (!leader.getAsBoolean() && leaderId.getAsLong() == 0) {
      // As etcd: the member that got the call checks it against its own view, then its change waits
      // for a leader (etcd's proposal waits in raft) until the request timeout.
      if (callsAwaitingLeader >= CALLS_AWAITING_LEADER_MAX) {
        ApplyVerticle.fail(message, Errors.NO_LEADER);
        return;
      }
      callsAwaitingLeader++;
      checkWithoutLeader(request).onComplete(ar -> {
        if (ar.failed()) {
          callsAwaitingLeader--;
          fail(message, ar.cause());
        } else {
          awaitLeader(message, request, System.nanoTime() + timeoutMillis * 1_000_000);
        }
      });
      return;
    }
    handle(message, request);
  }

  private void handle(Message<Object> message, com.google.protobuf.Message request) {
    if (!leader.getAsBoolean()) {
      forward(message, request);
      return;
    }
    execute(request).onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(ar.result());
      } else {
        fail(message, ar.cause());
      }
    });
  }

  /** Holds a call until a leader is known (then handles it) or its deadline passes. */
  private void awaitLeader(Message<Object> message, com.google.protobuf.Message request, long deadlineNanos) {
    if (leader.getAsBoolean() || leaderId.getAsLong() != 0) {
      callsAwaitingLeader--;
      handle(message, request);
    } else if (System.nanoTime() - deadlineNanos >= 0) {
      callsAwaitingLeader--;
      ApplyVerticle.fail(message, Errors.TIMEOUT);
    } else {
      vertx.setTimer(LEADER_POLL_MILLIS, t -> awaitLeader(message, request, deadlineNanos));
    }
  }

  /**
   * What etcd's member checks before it proposes a change, with no leader to ask: member URLs and
   * {@code --strict-reconfig-check} for an add, the strict check for a remove; update and promote have
   * none (etcd validates those when the change is applied, or on the leader).
   */
  private Future<Void> checkWithoutLeader(com.google.protobuf.Message request) {
    try {
      if (request instanceof MemberAddRequest add) {
        checkUrlSyntax(add.getPeerURLsList());
        return mayAdd(Member.newBuilder().setIsLearner(add.getIsLearner()).build());
      } else if (request instanceof MemberRemoveRequest remove) {
        return mayRemove(memberOrStub(remove.getID()));
      }
      return Future.succeededFuture();
    } catch (EtcdException e) {
      return Future.failedFuture(e);
    }
  }

  /** The member with this id, or one that has only the id (a voter, as etcd assumes for unknown ids). */
  private Member memberOrStub(long id) {
    Member m = table.get(id);
    return m != null ? m : Member.newBuilder().setID(id).build();
  }

  private static byte kindOf(com.google.protobuf.Message request) {
    if (request instanceof MemberAddRequest) {
      return 1;
    } else if (request instanceof MemberRemoveRequest) {
      return 2;
    } else if (request instanceof MemberUpdateRequest) {
      return 3;
    } else if (request instanceof MemberPromoteRequest) {
      return 4;
    }
    throw new EtcdException(GrpcCode.UNIMPLEMENTED, "unknown cluster request");
  }

  private void forward(Message<Object> message, com.google.protobuf.Message request) {
    if (leaderId.getAsLong() == 0) {
      ApplyVerticle.fail(message, Errors.NO_LEADER);
      return;
    }
    byte kind = kindOf(request);
    byte[] body = request.toByteArray();
    byte[] payload = new byte[body.length + 2];
    payload[0] = FORWARD_MEMBER_CHANGE;
    payload[1] = kind;
    System.arraycopy(body, 0, payload, 2, body.length);
    vertx.eventBus().<byte[]>request(Addresses.RAFT_FORWARD, new Raft.ForwardToLeader(payload),
        new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(timeoutMillis + 2000)).onComplete(ar -> {
          if (ar.failed()) {
            fail(message, ar.cause());
            return;
          }
          try {
            byte[] answer = ar.result().body();
            com.google.protobuf.Message response = switch (kind) {
              case 1 -> MemberAddResponse.parseFrom(answer);
              case 2 -> MemberRemoveResponse.parseFrom(answer);
              case 3 -> MemberUpdateResponse.parseFrom(answer);
              default -> MemberPromoteResponse.parseFrom(answer);
            };
            message.reply(response);
          } catch (InvalidProtocolBufferException e) {
            ApplyVerticle.fail(message, new EtcdException(GrpcCode.INTERNAL, "malformed answer from the leader"));
          }
        });
  }

  /** The leader's side of a forwarded change ({@code payload} starts with {@link #FORWARD_MEMBER_CHANGE}). */
  public void onForwarded(byte[] payload, Message<byte[]> message) {
    com.google.protobuf.Message request;
    try {
      byte[] body = java.util.Arrays.copyOfRange(payload, 2, payload.length);
      request = switch (payload[1]) {
        case 1 -> MemberAddRequest.parseFrom(body);
        case 2 -> MemberRemoveRequest.parseFrom(body);
        case 3 -> MemberUpdateRequest.parseFrom(body);
        case 4 -> MemberPromoteRequest.parseFrom(body);
        default -> throw new InvalidProtocolBufferException("unknown cluster request " + payload[1]);
      };
    } catch (InvalidProtocolBufferException | ArrayIndexOutOfBoundsException e) {
      ApplyVerticle.fail(message, new EtcdException(GrpcCode.INVALID_ARGUMENT, "malformed forwarded call"));
      return;
    }
    execute(request).onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(ar.result().toByteArray());
      } else {
        fail(message, ar.cause());
      }
    });
  }

  private static void fail(Message<?> message, Throwable t) {
    if (t instanceof EtcdException e) {
      ApplyVerticle.fail(message, e);
    } else if (t instanceof ReplyException r && r.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
      message.fail(r.failureCode(), r.getMessage());
    } else {
      ApplyVerticle.fail(message, Errors.TIMEOUT);
    }
  }

  /** The leader checks a change against the applied membership and proposes it. */
  private Future<com.google.protobuf.Message> execute(com.google.protobuf.Message request) {
    try {
      if (request instanceof MemberAddRequest add) {
        // etcd's order: URL syntax, the strict check, then (when applying) id, peer URLs, learner count
        List<String> urls = checkUrlSyntax(add.getPeerURLsList());
        long id = newMemberId(urls);
        Member m = Member.newBuilder().setID(id).addAllPeerURLs(add.getPeerURLsList())
            .setIsLearner(add.getIsLearner()).build();
        return mayAdd(m).compose(ok -> {
          if (table.get(id) != null || table.isRemoved(id)) {
            return Future.failedFuture(Errors.MEMBER_EXIST);
          }
          try {
            checkUrlsUnused(urls, 0);
          } catch (EtcdException e) {
            return Future.failedFuture(e);
          }
          if (add.getIsLearner() && table.learners().size() >= MAX_LEARNERS) {
            return Future.failedFuture(TOO_MANY_LEARNERS);
          }
          return propose(request, add.getIsLearner() ? ConfChangeType.ADD_LEARNER : ConfChangeType.ADD_NODE, m);
        });
      } else if (request instanceof MemberRemoveRequest remove) {
        // etcd's order: the strict check (an unknown id counts as a voter), then whether it exists
        return mayRemove(memberOrStub(remove.getID())).compose(ok -> {
          Member m = table.get(remove.getID());
          return m == null ? Future.failedFuture(Errors.MEMBER_NOT_FOUND)
              : propose(request, ConfChangeType.REMOVE_NODE, m);
        });
      } else if (request instanceof MemberUpdateRequest update) {
        Member m = existing(update.getID());
        checkUrls(update.getPeerURLsList(), update.getID());
        return propose(request, ConfChangeType.UPDATE_NODE,
            m.toBuilder().clearPeerURLs().addAllPeerURLs(update.getPeerURLsList()).build());
      } else if (request instanceof MemberPromoteRequest promote) {
        Member m = existing(promote.getID());
        if (!m.getIsLearner()) {
          throw Errors.MEMBER_NOT_LEARNER;
        }
        return vertx.eventBus().<long[]>request(Addresses.RAFT, new Raft.LearnerProgress(m.getID()))
            .recover(e -> Future.failedFuture(LEARNER_NOT_READY))
            .compose(reply -> {
              long[] match = reply.body();
              // etcd: a learner is ready when it has at least 90% of the leader's log.
              if (match[1] < match[0] * 0.9) {
                return Future.failedFuture(LEARNER_NOT_READY);
              }
              if (strictReconfigCheck && startedVoters() + 1 < (voters().size() + 1) / 2 + 1) {
                return Future.failedFuture(Errors.NOT_ENOUGH_STARTED_MEMBERS);
              }
              return propose(request, ConfChangeType.PROMOTE_LEARNER, m.toBuilder().setIsLearner(false).build());
            });
      }
      return Future.failedFuture(new EtcdException(GrpcCode.UNIMPLEMENTED, "unknown cluster request"));
    } catch (EtcdException e) {
      return Future.failedFuture(e);
    }
  }

  // ---- --strict-reconfig-check, as etcd 3.4's mayAddMember / mayRemoveMember / mayPromoteMember ----

  private List<Member> voters() {
    return table.members().stream().filter(m -> !m.getIsLearner()).toList();
  }

  /** Voters that have started: published their name through raft (an added member has none yet). */
  private int startedVoters() {
    return (int) voters().stream().filter(m -> !m.getName().isEmpty()).count();
  }

  /** This member (the leader) and the peers connected to it for at least {@code forMillis}. */
  private Future<java.util.Set<Long>> activePeers(long forMillis) {
    return vertx.eventBus().<long[]>request(Addresses.RAFT, new Raft.ActivePeers(forMillis))
        .map(reply -> {
          java.util.Set<Long> ids = new java.util.HashSet<>();
          for (long id : reply.body()) {
            ids.add(id);
          }
          ids.add(localId);
          return ids;
        });
  }

  /**
   * Adding a voter needs a quorum of the new configuration among the started voters (a cluster of one
   * may always grow to two); adding any member needs every voter connected to this one.
   */
  private Future<Void> mayAdd(Member m) {
    if (!strictReconfigCheck) {
      return Future.succeededFuture();
    }
    List<Member> voters = voters();
    int members = voters.size() + 1;
    int started = startedVoters();
    if (!m.getIsLearner() && !(started == 1 && members == 2) && started < members / 2 + 1) {
      log.warn("rejecting member add: not enough started members ({} of {})", started, members);
      return Future.failedFuture(Errors.NOT_ENOUGH_STARTED_MEMBERS);
    }
    return activePeers(HEALTH_INTERVAL_MILLIS).compose(active -> {
      if (!voters.stream().allMatch(v -> active.contains(v.getID()))) {
        log.warn("rejecting member add: this member is not connected to every voter");
        return Future.failedFuture(Errors.UNHEALTHY);
      }
      return Future.succeededFuture();
    });
  }

  /**
   * Removing a voter needs a quorum of the remaining voters started and, unless the removed member is
   * another member that is down anyway, enough connected voters left to keep a quorum.
   */
  private Future<Void> mayRemove(Member m) {
    if (!strictReconfigCheck || m.getIsLearner()) {
      return Future.succeededFuture();
    }
    List<Member> voters = voters();
    List<Member> others = voters.stream().filter(v -> v.getID() != m.getID()).toList();
    long started = others.stream().filter(v -> !v.getName().isEmpty()).count();
    if (started < others.size() / 2 + 1) {
      log.warn("rejecting member remove: not enough started members ({} of {})", started, others.size());
      return Future.failedFuture(Errors.NOT_ENOUGH_STARTED_MEMBERS);
    }
    return activePeers(0).compose(up -> {
      if (m.getID() != localId && !up.contains(m.getID())) {
        return Future.succeededFuture(); // a member that is down is not part of the active quorum
      }
      return activePeers(HEALTH_INTERVAL_MILLIS);
    }).compose(active -> {
      if (active == null) {
        return Future.succeededFuture();
      }
      long connected = voters.stream().filter(v -> active.contains(v.getID())).count();
      if (connected - 1 < 1 + (voters.size() - 1) / 2) {
        log.warn("rejecting member remove: {} of {} voters connected, removing one would lose the quorum",
            connected, voters.size());
        return Future.failedFuture(Errors.UNHEALTHY);
      }
      return Future.succeededFuture();
    });
  }

  private Member existing(long id) {
    Member m = table.get(id);
    if (m == null) {
      throw Errors.MEMBER_NOT_FOUND;
    }
    return m;
  }

  /** Peer URLs must be URLs and not used by another member than {@code self}. */
  private List<String> checkUrls(List<String> urls, long self) {
    List<String> sorted = checkUrlSyntax(urls);
    checkUrlsUnused(urls, self);
    return sorted;
  }

  /** Peer URLs must be etcd member URLs; returns them sorted. */
  private static List<String> checkUrlSyntax(List<String> urls) {
    if (urls.isEmpty()) {
      throw BAD_PEER_URLS;
    }
    for (String u : urls) {
      if (!validPeerUrl(u)) {
        throw BAD_PEER_URLS;
      }
    }
    return urls.stream().sorted().toList();
  }

  /** No member but {@code self} may already use one of these peer URLs. */
  private void checkUrlsUnused(List<String> urls, long self) {
    for (Member m : table.members()) {
      if (m.getID() != self && m.getPeerURLsList().stream().anyMatch(urls::contains)) {
        throw Errors.PEER_URL_EXIST;
      }
    }
  }

  /**
   * etcd's rule for a member URL: scheme http, https, unix or unixs, an authority of the form
   * {@code host:port}, and no path (so {@code http://10.0.0.1:2380/} is refused).
   */
  static boolean validPeerUrl(String u) {
    URI uri;
    try {
      uri = new URI(u);
    } catch (java.net.URISyntaxException e) {
      return false;
    }
    String scheme = uri.getScheme();
    if (scheme == null || !List.of("http", "https", "unix", "unixs").contains(scheme)) {
      return false;
    }
    String authority = uri.getRawAuthority();
    if (authority == null || authority.contains("@")) {
      return false;
    }
    if (authority.startsWith("[") ? !authority.contains("]:")
        : authority.indexOf(':') < 0 || authority.indexOf(':') != authority.lastIndexOf(':')) {
      return false; // no port, or too many colons in a host that is not bracketed
    }
    return (uri.getRawPath() == null || uri.getRawPath().isEmpty()) && uri.getRawQuery() == null
        && uri.getRawFragment() == null;
  }

  /** As etcd: the first 8 bytes of SHA-1(sorted peer URLs, the cluster, the time). */
  private long newMemberId(List<String> sortedUrls) {
    try {
      String seed = String.join("", sortedUrls) + Long.toHexString(table.clusterId()) + System.currentTimeMillis()
          + System.nanoTime();
      byte[] hash = MessageDigest.getInstance("SHA-1").digest(seed.getBytes(StandardCharsets.UTF_8));
      long id = ByteBuffer.wrap(hash, 0, 8).getLong();
      return id == 0 ? 1 : id;
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private Future<com.google.protobuf.Message> propose(com.google.protobuf.Message request, ConfChangeType type,
      Member member) {
    long requestId = Long.MIN_VALUE | nextRequestId++;
    byte[] m = member.toByteArray();
    ByteBuffer context = ByteBuffer.allocate(16 + m.length).putLong(localId).putLong(requestId).put(m);
    ConfChange cc = new ConfChange(type, member.getID(), context.array());
    Promise<com.google.protobuf.Message> promise = Promise.promise();
    long timer = vertx.setTimer(timeoutMillis, t -> {
      Pending p = pending.remove(requestId);
      if (p != null) {
        p.promise.tryFail(Errors.TIMEOUT);
      }
    });
    pending.put(requestId, new Pending(promise, request, timer));
    log.info("proposing membership change {} of member {}", type, Long.toHexString(member.getID()));
    vertx.eventBus().send(Addresses.RAFT, new Raft.ProposeConfChange(requestId, cc.encode()));
    return promise.future();
  }

  /** A membership change the raft node refused. Returns false if it was not one of ours. */
  public boolean onProposeFailed(long requestId) {
    Pending p = pending.remove(requestId);
    if (p == null) {
      return false;
    }
    vertx.cancelTimer(p.timerId);
    p.promise.tryFail(leaderId.getAsLong() == 0 ? Errors.NO_LEADER : Errors.TIMEOUT);
    return true;
  }

  /** The member a change carries in its context, or null. */
  public static Member memberOf(ConfChange cc) {
    byte[] ctx = cc.context();
    if (ctx.length < 16) {
      return null;
    }
    try {
      return Member.parseFrom(java.util.Arrays.copyOfRange(ctx, 16, ctx.length));
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  /** Applies a committed membership change to the member table (every member does, in log order). */
  public void apply(ConfChange cc) {
    long id = cc.nodeId();
    Member carried = memberOf(cc);
    Member current = table.get(id);
    Member base = current != null ? current : carried;
    switch (cc.type()) {
      case ADD_NODE, PROMOTE_LEARNER -> {
        if (base != null && !table.isRemoved(id)) {
          table.put(base.toBuilder().setIsLearner(false).build());
        }
      }
      case ADD_LEARNER -> {
        if (base != null && !table.isRemoved(id)) {
          table.put(base.toBuilder().setIsLearner(true).build());
        }
      }
      case UPDATE_NODE -> {
        if (current != null && carried != null) {
          table.put(current.toBuilder().clearPeerURLs().addAllPeerURLs(carried.getPeerURLsList()).build());
        }
      }
      case REMOVE_NODE -> table.remove(id);
    }
    log.info("applied membership change {} of member {}", cc.type(), Long.toHexString(id));
    byte[] ctx = cc.context();
    if (ctx.length < 16) {
      return;
    }
    ByteBuffer b = ByteBuffer.wrap(ctx);
    long proposer = b.getLong();
    long requestId = b.getLong();
    if (proposer != localId) {
      return;
    }
    Pending p = pending.remove(requestId);
    if (p == null) {
      return;
    }
    vertx.cancelTimer(p.timerId);
    List<Member> members = table.members();
    ResponseHeader h = clusterHeader();
    com.google.protobuf.Message response;
    if (p.request instanceof MemberAddRequest) {
      Member added = table.get(id);
      response = MemberAddResponse.newBuilder().setHeader(h).setMember(added != null ? added : carried)
          .addAllMembers(members).build();
    } else if (p.request instanceof MemberRemoveRequest) {
      response = MemberRemoveResponse.newBuilder().setHeader(h).addAllMembers(members).build();
    } else if (p.request instanceof MemberUpdateRequest) {
      response = MemberUpdateResponse.newBuilder().setHeader(h).addAllMembers(members).build();
    } else {
      response = MemberPromoteResponse.newBuilder().setHeader(h).addAllMembers(members).build();
    }
    p.promise.tryComplete(response);
  }

  /** What a joining member asking for the cluster gets: the cluster id and the member list. */
  public io.vertx.core.buffer.Buffer clusterInfo() {
    byte[] members = MemberListResponse.newBuilder().addAllMembers(table.members()).build().toByteArray();
    return io.vertx.core.buffer.Buffer.buffer(8 + members.length).appendLong(table.clusterId()).appendBytes(members);
  }

  static List<Member> parseMembers(byte[] bytes) throws InvalidProtocolBufferException {
    return new ArrayList<>(MemberListResponse.parseFrom(bytes).getMembersList());
  }
}
