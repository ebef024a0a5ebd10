package io.vetcd.bus;

import io.vetcd.pb.Event;
import io.vetcd.pb.WatchRequest;
import java.util.List;

/** Messages to the watch verticle. Immutable. */
public final class Watches {
  private Watches() {}

  /** The events of one newly applied revision, prev_kv filled. */
  public record Revision(long revision, List<Event> events, long compactRevision, long raftTerm) {
    public Revision {
      events = List.copyOf(events);
    }
  }

  /** Revisions applied in one go, in order: each watcher gets their events in one response. */
  public record Revisions(List<Revision> revisions) {
    public Revisions {
      revisions = List.copyOf(revisions);
    }
  }

  /** A compaction happened: watchers needing older revisions get canceled. */
  public record Compacted(long compactRevision) {}

  /** A frame from a client watch stream; responses go to {@link Addresses#watchStream}(streamKey). */
  public record Frame(String streamKey, WatchRequest request) {}

  /** A create request auth refused: the watch verticle sends {@code refusal} with its header, in stream order. */
  public record Refused(String streamKey, io.vetcd.pb.WatchResponse refusal) {}

  public record StreamClosed(String streamKey) {}

  /** The stream's client cannot keep up (its write queue is full) / has drained it. */
  public record StreamBlocked(String streamKey) {}

  public record StreamDrained(String streamKey) {}
}
