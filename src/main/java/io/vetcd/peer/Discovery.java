package io.vetcd.peer;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * How a member joining an existing cluster ({@code --initial-cluster-state existing}) learns the
 * cluster id and the member list from a running member's peer URL, before it starts (blocking).
 */
public final class Discovery {
  /** What a member answered: the cluster id and its members (the bytes its supplier gave). */
  public record ClusterInfo(long clusterId, byte[] members) {}

  private Discovery() {}

  /** Asks each URL in turn; the first answer wins. Throws with every failure if none answers. */
  public static ClusterInfo ask(List<URI> peerUrls, int timeoutMillis) throws IOException {
    StringBuilder failures = new StringBuilder();
    for (URI url : peerUrls) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(url.getHost(), url.getPort()), timeoutMillis);
        socket.setSoTimeout(timeoutMillis);
        DataOutputStream out = new DataOutputStream(socket.getOutputStream());
        out.writeInt(1);
        out.writeByte(Frames.CLUSTER_INFO);
        out.flush();
        DataInputStream in = new DataInputStream(socket.getInputStream());
        int length = in.readInt();
        if (length < 1 || length > PeerTransport.FRAME_BYTES_MAX) {
          throw new IOException("bad frame length " + length);
        }
        byte kind = in.readByte();
        byte[] body = new byte[length - 1];
        in.readFully(body);
        if (kind == Frames.CLUSTER_INFO && body.length >= 8) {
          long clusterId = java.nio.ByteBuffer.wrap(body).getLong();
          return new ClusterInfo(clusterId, java.util.Arrays.copyOfRange(body, 8, body.length));
        }
        throw new IOException(kind == Frames.REJECT ? new String(body, StandardCharsets.UTF_8) : "unexpected answer");
      } catch (IOException e) {
        failures.append(failures.length() == 0 ? "" : "; ").append(url).append(": ").append(e.getMessage());
      }
    }
    throw new IOException("cannot get the cluster from its members (" + failures + ")");
  }
}
