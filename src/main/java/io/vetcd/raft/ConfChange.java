package io.vetcd.raft;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** A membership change carried in a {@link EntryType#CONF_CHANGE} entry. */
public record ConfChange(ConfChangeType type, long nodeId, byte[] context) {
    public ConfChange {
        if (type == null) throw new IllegalArgumentException("type");
        if (context == null) context = new byte[0];
    }

    public byte[] encode() {
        try {
            ByteArrayOutputStream bos = new ByteArrayOutputStream(16 + context.length);
            DataOutputStream out = new DataOutputStream(bos);
            out.writeByte(type.ordinal());
            out.writeLong(nodeId);
            out.writeInt(context.length);
            out.write(context);
            out.flush();
            return bos.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static ConfChange decode(byte[] b) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
            ConfChangeType t = ConfChangeType.values()[in.readUnsignedByte()];
            long id = in.readLong();
            int n = in.readInt();
            if (n < 0 || n > b.length) throw new IllegalArgumentException("bad conf change context length");
            byte[] ctx = new byte[n];
            in.readFully(ctx);
            return new ConfChange(t, id, ctx);
        } catch (IOException e) {
            throw new IllegalArgumentException("malformed conf change", e);
        }
    }
}
