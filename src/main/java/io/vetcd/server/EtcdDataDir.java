package io.vetcd.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A data directory written by etcd: most often by {@code etcdctl snapshot restore}, whose output an
 * operator starts members on. Its {@code member/snap/db} is etcd's bbolt file and its WAL is etcd's,
 * neither of which vetcd runs on, so at start the directory is moved aside and the bbolt file is
 * restored from, as {@code vetcd snapshot restore} does with the same member flags (--name,
 * --initial-cluster, --initial-cluster-token, --initial-advertise-peer-urls), which give the same
 * member and cluster ids as etcd's restore. etcd's WAL is not read: what the bbolt file holds is what
 * is imported (after a restore, that is everything).
 */
public final class EtcdDataDir {
  private static final Logger log = LoggerFactory.getLogger(EtcdDataDir.class);
  /** bbolt's meta page magic (0xED0CDAED, little-endian) at offset 16 of the file. */
  private static final byte[] BOLT_MAGIC = {(byte) 0xED, (byte) 0xDA, (byte) 0x0C, (byte) 0xED};
  private static final int BOLT_MAGIC_OFFSET = 16;

  private EtcdDataDir() {}

  /** True when {@code file} starts like a bbolt database. */
  static boolean isBolt(Path file) throws IOException {
    if (!Files.isRegularFile(file) || Files.size(file) < BOLT_MAGIC_OFFSET + BOLT_MAGIC.length) {
      return false;
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] head = in.readNBytes(BOLT_MAGIC_OFFSET + BOLT_MAGIC.length);
      for (int i = 0; i < BOLT_MAGIC.length; i++) {
        if (head[BOLT_MAGIC_OFFSET + i] != BOLT_MAGIC[i]) {
          return false;
        }
      }
      return true;
    }
  }

  /** Converts an etcd data directory in place (the original kept beside it); nothing otherwise. */
  public static void importIfEtcds(ServerConfig config) throws Exception {
    Path dataDir = config.dataDir();
    Path bolt = dataDir.resolve("member").resolve("snap").resolve("db");
    // vetcd's own dirs hold member/identity (and its store at the same path is a MapDB file)
    if (Files.exists(dataDir.resolve("member").resolve("identity")) || !isBolt(bolt)) {
      return;
    }
    Path aside = dataDir.resolveSibling(dataDir.getFileName() + ".etcd-" + System.currentTimeMillis());
    log.info("{} holds etcd's files (member/snap/db is a bbolt database, as etcdctl snapshot restore writes):"
        + " importing it; the original is kept in {}", dataDir, aside);
    Files.move(dataDir, aside, StandardCopyOption.ATOMIC_MOVE);
    Path walDir = config.walDir();
    Path walAside = null;
    if (!walDir.startsWith(dataDir) && Files.exists(walDir)) {
      walAside = walDir.resolveSibling(walDir.getFileName() + ".etcd-" + System.currentTimeMillis());
      Files.move(walDir, walAside, StandardCopyOption.ATOMIC_MOVE);
    }
    try {
      EtcdBackup.Restored r = EtcdBackup.restore(aside.resolve("member").resolve("snap").resolve("db"), true, config);
      log.info("imported etcd's data: revision {}, {} revisions, {} leases; member {} of cluster {}", r.revision(),
          r.revisions(), r.leases(), Long.toHexString(r.memberId()), Long.toHexString(r.clusterId()));
    } catch (Exception e) {
      // leave things as they were, and say why the member cannot start
      if (!Files.exists(dataDir)) {
        Files.move(aside, dataDir, StandardCopyOption.ATOMIC_MOVE);
      }
      if (walAside != null && !Files.exists(walDir)) {
        Files.move(walAside, walDir, StandardCopyOption.ATOMIC_MOVE);
      }
      throw new IOException("cannot import etcd's data dir " + dataDir + ": " + e.getMessage()
          + " (start with the flags given to etcdctl snapshot restore, or restore with vetcd snapshot restore)", e);
    }
  }
}
