package io.vetcd.raft;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** Compact binary encoding of {@link Message} for the peer transport. */
public final class MessageCodec {
    private static final int VERSION = 1;

    private MessageCodec() {}

    public static byte[] encode(Message m) {
        try {
            ByteArrayOutputStream bos = new ByteArrayOutputStream(96);
            DataOutputStream out = new DataOutputStream(bos);
            out.writeByte(VERSION);
            out.writeByte(m.type().ordinal());
            out.writeLong(m.from());
            out.writeLong(m.to());
            out.writeLong(m.term());
            out.writeLong(m.logTerm());
            out.writeLong(m.index());
            out.writeLong(m.commit());
            out.writeBoolean(m.reject());
            out.writeLong(m.rejectHint());
            writeBytes(out, m.context());
            out.writeInt(m.entries().size());
            for (Entry e : m.entries()) {
                out.writeLong(e.term());
                out.writeLong(e.index());
                out.writeByte(e.type().ordinal());
                writeBytes(out, e.data());
            }
            Snapshot s = m.snapshot();
            out.writeBoolean(s != null);
            if (s != null) {
                out.writeLong(s.index());
                out.writeLong(s.term());
                writeIds(out, s.confState().voters());
                writeIds(out, s.confState().learners());
                writeBytes(out, s.data());
            }
            out.flush();
            return bos.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Message decode(byte[] b) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
            int v = in.readUnsignedByte();
            if (v != VERSION) throw new IllegalArgumentException("unknown message version " + v);
            MessageType type = MessageType.values()[in.readUnsignedByte()];
            long from = in.readLong(), to = in.readLong(), term = in.readLong(), logTerm = in.readLong();
            long index = in.readLong(), commit = in.readLong();
            boolean reject = in.readBoolean();
            long hint = in.readLong();
            byte[] ctx = readBytes(in, b.length);
            int n = in.readInt();
            if (n < 0 || n > b.length) throw new IllegalArgumentException("bad entry count");
            List<Entry> ents = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long et = in.readLong(), ei = in.readLong();
                EntryType ty = EntryType.values()[in.readUnsignedByte()];
                ents.add(new Entry(et, ei, ty, readBytes(in, b.length)));
            }
            Snapshot snap = null;
            if (in.readBoolean()) {
                long si = in.readLong(), st = in.readLong();
                List<Long> voters = readIds(in, b.length), learners = readIds(in, b.length);
                snap = new Snapshot(si, st, new ConfState(voters, learners), readBytes(in, b.length));
            }
            return new Message(type, from, to, term, logTerm, index, ents, commit, reject, hint, ctx, snap);
        } catch (IOException | ArrayIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("malformed message", e);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] d) throws IOException {
        out.writeInt(d.length);
        out.write(d);
    }

    private static byte[] readBytes(DataInputStream in, int max) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > max) throw new IllegalArgumentException("bad length " + n);
        byte[] d = new byte[n];
        in.readFully(d);
        return d;
    }

    private static void writeIds(DataOutputStream out, List<Long> ids) throws IOException {
        out.writeInt(ids.size());
        for (long id : ids) out.writeLong(id);
    }

    private static List<Long> readIds(DataInputStream in, int max) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > max) throw new IllegalArgumentException("bad id count");
        List<Long> r = new ArrayList<>(n);
        for (int i = 0; i < n; i++) r.add(in.readLong());
        return r;
    }
}
