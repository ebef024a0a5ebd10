package io.vetcd.mvcc;

import io.vetcd.pb.Event;
import java.util.List;

/**
 * Outcome of one write request applied to the store.
 *
 * @param response the proto response without its top-level header
 * @param revision the store revision after the write (unchanged when nothing was written)
 * @param events   the changes in apply order; prev_kv set when the key was live just before the revision;
 *                 a DELETE event's kv carries only the key and mod_revision
 */
public record WriteResult<R>(R response, long revision, List<Event> events) {}
