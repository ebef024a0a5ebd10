package io.vetcd.raft;

/** Thrown when a proposal / read / conf change cannot be accepted now (no leader, transfer, overload...). */
public class ProposalDroppedException extends RuntimeException {
    public ProposalDroppedException() { super("proposal dropped"); }
    public ProposalDroppedException(String msg) { super(msg); }
}
