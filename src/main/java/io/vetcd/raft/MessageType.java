package io.vetcd.raft;

/**
 * Peer message kinds. PROPOSE, READ_INDEX and TRANSFER_LEADER are forwarded by followers to the
 * leader and carry term 0 (they are not bound to a term).
 */
public enum MessageType {
    APPEND, APPEND_RESPONSE,
    VOTE, VOTE_RESPONSE,
    PRE_VOTE, PRE_VOTE_RESPONSE,
    HEARTBEAT, HEARTBEAT_RESPONSE,
    PROPOSE,
    READ_INDEX, READ_INDEX_RESPONSE,
    TIMEOUT_NOW,
    /** Forwarded leadership transfer request; target node id in {@code index}. */
    TRANSFER_LEADER,
    SNAPSHOT
}
