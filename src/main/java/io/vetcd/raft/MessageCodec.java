package io.vetcd.raft;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** Compact binary encoding of {@link Message} for the peer transport. */
public final class MessageCodec {
    private static final int VERSION = 1;

    private MessageCodec() {}

    public static byte[] encode(Message m) {
        ByteBuffer out = ByteBuffer.allocate(encodedSize(m));
        out.put((byte) VERSION);
        out.put((byte) m.type().ordinal());
        out.putLong(m.from());
        out.putLong(m.to());
        out.putLong(m.term());
        out.putLong(m.logTerm());
        out.putLong(m.index());
        out.putLong(m.commit());
        out.put((byte) (m.reject() ? 1 : 0));
        out.putLong(m.rejectHint());
        writeBytes(out, m.context());
        out.putInt(m.entries().size());
        for (Entry e : m.entries()) {
            out.putLong(e.term());
            out.putLong(e.index());
            out.put((byte) e.type().ordinal());
            writeBytes(out, e.data());
        }
        Snapshot s = m.snapshot();
        out.put((byte) (s != null ? 1 : 0));
        if (s != null) {
            out.putLong(s.index());
            out.putLong(s.term());
            writeIds(out, s.confState().voters());
            writeIds(out, s.confState().learners());
            writeBytes(out, s.data());
        }
        if (out.hasRemaining()) {
            throw new IllegalStateException("raft message encoded in fewer bytes than counted");
        }
        return out.array();
    }

    /** The exact size of {@link #encode}'s output: the message is written into one array, once. */
    static int encodedSize(Message m) {
        long size = 2 + 6 * Long.BYTES + 1 + Long.BYTES + Integer.BYTES + m.context().length + Integer.BYTES;
        for (Entry e : m.entries()) {
            size += 2 * Long.BYTES + 1 + Integer.BYTES + e.data().length;
        }
        size += 1;
        Snapshot s = m.snapshot();
        if (s != null) {
            size += 2 * Long.BYTES + 2 * Integer.BYTES
                + (long) Long.BYTES * (s.confState().voters().size() + s.confState().learners().size())
                + Integer.BYTES + s.data().length;
        }
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("raft message too large to encode: " + size + " bytes");
        }
        return (int) size;
    }

    public static Message decode(byte[] b) {
        try {
            ByteBuffer in = ByteBuffer.wrap(b);
            int v = Byte.toUnsignedInt(in.get());
            if (v != VERSION) throw new IllegalArgumentException("unknown message version " + v);
            MessageType type = MessageType.values()[Byte.toUnsignedInt(in.get())];
            long from = in.getLong(), to = in.getLong(), term = in.getLong(), logTerm = in.getLong();
            long index = in.getLong(), commit = in.getLong();
            boolean reject = in.get() != 0;
            long hint = in.getLong();
            byte[] ctx = readBytes(in);
            int n = in.getInt();
            if (n < 0 || n > in.remaining()) throw new IllegalArgumentException("bad entry count");
            List<Entry> ents = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long et = in.getLong(), ei = in.getLong();
                EntryType ty = EntryType.values()[Byte.toUnsignedInt(in.get())];
                ents.add(new Entry(et, ei, ty, readBytes(in)));
            }
            Snapshot snap = null;
            if (in.get() != 0) {
                long si = in.getLong(), st = in.getLong();
                List<Long> voters = readIds(in), learners = readIds(in);
                snap = new Snapshot(si, st, new ConfState(voters, learners), readBytes(in));
            }
            return new Message(type, from, to, term, logTerm, index, ents, commit, reject, hint, ctx, snap);
        } catch (BufferUnderflowException | ArrayIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("malformed message", e);
        }
    }

    private static void writeBytes(ByteBuffer out, byte[] d) {
        out.putInt(d.length);
        out.put(d);
    }

    private static byte[] readBytes(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0 || n > in.remaining()) throw new IllegalArgumentException("bad length " + n);
        byte[] d = new byte[n];
        in.get(d);
        return d;
    }

    private static void writeIds(ByteBuffer out, List<Long> ids) {
        out.putInt(ids.size());
        for (long id : ids) out.putLong(id);
    }

    private static List<Long> readIds(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0 || n > in.remaining() / Long.BYTES) throw new IllegalArgumentException("bad id count");
        List<Long> r = new ArrayList<>(n);
        for (int i = 0; i < n; i++) r.add(in.getLong());
        return r;
    }
}
