package io.vetcd.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.election.CampaignResponse;
import io.etcd.jetcd.election.LeaderResponse;
import io.etcd.jetcd.lock.LockResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The v3lockpb.Lock and v3electionpb.Election services, through jetcd's clients for them. */
class LockElectionTest {
  static InProcessMember member;
  static Client client;

  @BeforeAll
  static void start() throws Exception {
    member = new InProcessMember();
    client = Client.builder().endpoints(member.endpoint()).build();
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    member.close();
  }

  static ByteSequence b(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  @Test
  void second_locker_waits_until_the_first_unlocks() throws Exception {
    long lease1 = client.getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
    long lease2 = client.getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
    LockResponse first = client.getLockClient().lock(b("mylock"), lease1).get(10, TimeUnit.SECONDS);
    assertEquals("mylock/" + Long.toHexString(lease1), first.getKey().toString(UTF_8));
    CompletableFuture<LockResponse> second = client.getLockClient().lock(b("mylock"), lease2);
    assertThrows(TimeoutException.class, () -> second.get(1, TimeUnit.SECONDS), "the lock is held");
    client.getLockClient().unlock(first.getKey()).get(10, TimeUnit.SECONDS);
    LockResponse acquired = second.get(10, TimeUnit.SECONDS);
    assertEquals("mylock/" + Long.toHexString(lease2), acquired.getKey().toString(UTF_8));
    client.getLockClient().unlock(acquired.getKey()).get(10, TimeUnit.SECONDS);
  }

  @Test
  void lock_is_released_when_the_holders_lease_is_revoked() throws Exception {
    long lease1 = client.getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
    long lease2 = client.getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
    client.getLockClient().lock(b("leaselock"), lease1).get(10, TimeUnit.SECONDS);
    CompletableFuture<LockResponse> second = client.getLockClient().lock(b("leaselock"), lease2);
    client.getLeaseClient().revoke(lease1).get(10, TimeUnit.SECONDS);
    assertNotNull(second.get(10, TimeUnit.SECONDS).getKey());
  }

  @Test
  void lock_with_a_missing_lease_fails_with_etcds_error() {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> client.getLockClient().lock(b("nolease"), 0x7777).get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("requested lease not found"), e.getCause().getMessage());
  }

  @Test
  void campaign_proclaim_leader_resign() throws Exception {
    long lease1 = client.getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
    long lease2 = client.getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
    CampaignResponse won = client.getElectionClient().campaign(b("elect"), lease1, b("alice")).get(10, TimeUnit.SECONDS);
    LeaderResponse leader = client.getElectionClient().leader(b("elect")).get(10, TimeUnit.SECONDS);
    assertEquals("alice", leader.getKv().getValue().toString(UTF_8));
    CompletableFuture<CampaignResponse> bob = client.getElectionClient().campaign(b("elect"), lease2, b("bob"));
    assertThrows(TimeoutException.class, () -> bob.get(1, TimeUnit.SECONDS), "alice leads");
    client.getElectionClient().proclaim(won.getLeader(), b("alice-2")).get(10, TimeUnit.SECONDS);
    assertEquals("alice-2", client.getElectionClient().leader(b("elect")).get(10, TimeUnit.SECONDS)
        .getKv().getValue().toString(UTF_8));
    client.getElectionClient().resign(won.getLeader()).get(10, TimeUnit.SECONDS);
    CampaignResponse bobWon = bob.get(10, TimeUnit.SECONDS);
    assertEquals("bob", client.getElectionClient().leader(b("elect")).get(10, TimeUnit.SECONDS)
        .getKv().getValue().toString(UTF_8));
    ExecutionException notLeader = assertThrows(ExecutionException.class,
        () -> client.getElectionClient().proclaim(won.getLeader(), b("stale")).get(10, TimeUnit.SECONDS));
    // jetcd recognizes etcd's "election: not leader" message and raises its own exception for it.
    assertInstanceOf(io.etcd.jetcd.election.NotLeaderException.class, notLeader.getCause());
    client.getElectionClient().resign(bobWon.getLeader()).get(10, TimeUnit.SECONDS);
    ExecutionException noLeader = assertThrows(ExecutionException.class,
        () -> client.getElectionClient().leader(b("elect")).get(10, TimeUnit.SECONDS));
    assertInstanceOf(io.etcd.jetcd.election.NoLeaderException.class, noLeader.getCause());
  }

  @Test
  void observe_follows_proclamations_and_new_leaders() throws Exception {
    long lease1 = client.getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
    long lease2 = client.getLeaseClient().grant(30).get(10, TimeUnit.SECONDS).getID();
    java.util.concurrent.BlockingQueue<String> seen = new java.util.concurrent.LinkedBlockingQueue<>();
    client.getElectionClient().observe(b("observed"), new io.etcd.jetcd.Election.Listener() {
      @Override
      public void onNext(LeaderResponse response) {
        seen.add(response.getKv().getValue().toString(UTF_8));
      }

      @Override
      public void onError(Throwable throwable) {
        seen.add("error: " + throwable);
      }

      @Override
      public void onCompleted() {
      }
    });
    CampaignResponse first = client.getElectionClient().campaign(b("observed"), lease1, b("one")).get(10, TimeUnit.SECONDS);
    assertEquals("one", seen.poll(10, TimeUnit.SECONDS));
    client.getElectionClient().proclaim(first.getLeader(), b("one-b")).get(10, TimeUnit.SECONDS);
    assertEquals("one-b", seen.poll(10, TimeUnit.SECONDS));
    CompletableFuture<CampaignResponse> second = client.getElectionClient().campaign(b("observed"), lease2, b("two"));
    client.getElectionClient().resign(first.getLeader()).get(10, TimeUnit.SECONDS);
    second.get(10, TimeUnit.SECONDS);
    assertEquals("two", seen.poll(10, TimeUnit.SECONDS));
  }
}
