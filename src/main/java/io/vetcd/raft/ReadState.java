package io.vetcd.raft;

/**
 * Result of a {@link RaftNode#readIndex(byte[])} request: once the local applied index reaches
 * {@code index}, a linearizable read identified by {@code requestContext} may be served.
 */
public record ReadState(long index, byte[] requestContext) {}
