package io.vetcd.watch;

import com.google.protobuf.CodedOutputStream;
import io.vetcd.pb.Event;
import io.vetcd.pb.WatchResponse;
import java.util.ArrayList;
import java.util.List;

/** etcd's watch fragmentation: a response too large for one message is sent in pieces. */
public final class Fragments {
  private Fragments() {}

  /**
   * Splits a response as etcd does: a piece takes events while its encoded size stays below
   * {@code bytesMax} (a piece always holds at least one event); every piece but the last has
   * fragment=true. Events are never split or reordered.
   */
  public static List<WatchResponse> split(WatchResponse response, long bytesMax) {
    List<WatchResponse> pieces = new ArrayList<>();
    WatchResponse.Builder piece = response.toBuilder().clearEvents().setFragment(true);
    long emptySize = piece.build().getSerializedSize();
    long size = emptySize;
    for (Event event : response.getEventsList()) {
      long eventSize = CodedOutputStream.computeMessageSize(WatchResponse.EVENTS_FIELD_NUMBER, event);
      if (piece.getEventsCount() > 0 && size + eventSize >= bytesMax) {
        pieces.add(piece.build());
        piece = response.toBuilder().clearEvents().setFragment(true);
        size = emptySize;
      }
      piece.addEvents(event);
      size += eventSize;
    }
    pieces.add(piece.setFragment(false).build());
    return pieces;
  }
}
