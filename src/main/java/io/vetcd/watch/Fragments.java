package io.vetcd.watch;

import io.vetcd.pb.Event;
import io.vetcd.pb.WatchResponse;
import java.util.ArrayList;
import java.util.List;

/** etcd's watch fragmentation: a response too large for one message is sent in pieces. */
public final class Fragments {
  private Fragments() {}

  /**
   * Splits a response into pieces of at most about {@code bytesMax} (a piece always holds at least
   * one event); every piece but the last has fragment=true. Events are never split or reordered.
   */
  public static List<WatchResponse> split(WatchResponse response, long bytesMax) {
    List<WatchResponse> pieces = new ArrayList<>();
    WatchResponse.Builder piece = response.toBuilder().clearEvents();
    int emptySize = piece.build().getSerializedSize();
    long size = emptySize;
    for (Event event : response.getEventsList()) {
      int eventSize = event.getSerializedSize() + 8; // tag and length prefix, generously
      if (piece.getEventsCount() > 0 && size + eventSize > bytesMax) {
        pieces.add(piece.setFragment(true).build());
        piece = response.toBuilder().clearEvents();
        size = emptySize;
      }
      piece.addEvents(event);
      size += eventSize;
    }
    pieces.add(piece.setFragment(false).build());
    return pieces;
  }
}
