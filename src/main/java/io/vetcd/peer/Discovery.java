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
    return ask(peerUrls, timeoutMillis, null);
  }

  /** As {@link #ask(List, int)}; https URLs are dialed with TLS made from {@code tls} (the peer flags). */
  public static ClusterInfo ask(List<URI> peerUrls, int timeoutMillis, io.vertx.core.net.ClientSSLOptions tls)
      throws IOException {
    StringBuilder failures = new StringBuilder();
    javax.net.ssl.SSLSocketFactory sslSockets = null;
    for (URI url : peerUrls) {
      try (Socket plain = new Socket()) {
        plain.connect(new InetSocketAddress(url.getHost(), url.getPort()), timeoutMillis);
        plain.setSoTimeout(timeoutMillis);
        Socket socket = plain;
        if (url.getScheme().equals("https")) {
          if (sslSockets == null) {
            sslSockets = sslSockets(tls == null ? new io.vertx.core.net.ClientSSLOptions() : tls);
          }
          javax.net.ssl.SSLSocket tlsSocket = (javax.net.ssl.SSLSocket) sslSockets.createSocket(plain, url.getHost(),
              url.getPort(), true);
          if (tls != null && "HTTPS".equals(tls.getHostnameVerificationAlgorithm())) {
            javax.net.ssl.SSLParameters parameters = tlsSocket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            tlsSocket.setSSLParameters(parameters);
          }
          tlsSocket.startHandshake();
          socket = tlsSocket;
        }
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

  /** A blocking TLS socket factory from Vert.x's TLS options (the PEM or PKCS#12 files they name). */
  private static javax.net.ssl.SSLSocketFactory sslSockets(io.vertx.core.net.ClientSSLOptions tls) throws IOException {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      javax.net.ssl.KeyManager[] keys = tls.getKeyCertOptions() == null ? null
          : tls.getKeyCertOptions().getKeyManagerFactory(vertx).getKeyManagers();
      javax.net.ssl.TrustManager[] trust;
      if (tls.isTrustAll()) {
        trust = new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
          @Override
          public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

          @Override
          public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

          @Override
          public java.security.cert.X509Certificate[] getAcceptedIssuers() {
            return new java.security.cert.X509Certificate[0];
          }
        }};
      } else {
        trust = tls.getTrustOptions() == null ? null : tls.getTrustOptions().getTrustManagerFactory(vertx).getTrustManagers();
      }
      javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
      context.init(keys, trust, null);
      return context.getSocketFactory();
    } catch (IOException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("peer TLS: " + e.getMessage(), e);
    } finally {
      vertx.close();
    }
  }
}
