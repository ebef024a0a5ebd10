package io.vetcd.raft;

public enum Role { FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER }
