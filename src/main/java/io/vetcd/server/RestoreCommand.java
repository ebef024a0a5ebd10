package io.vetcd.server;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code vetcd snapshot restore <file> [flags]}: creates a member's data directory from a snapshot
 * saved with {@code etcdctl snapshot save} (from vetcd or from etcd 3.4), shaped like etcdctl's
 * command. The member flags are the server's ({@code --name}, {@code --data-dir}, {@code --wal-dir},
 * {@code --initial-cluster}, {@code --initial-cluster-token}, {@code --initial-advertise-peer-urls},
 * ...); {@code --skip-hash-check} accepts a file without etcd's sha256 trailer (a copied backend
 * file).
 */
public final class RestoreCommand {
  private RestoreCommand() {}

  /** Returns the process exit status. */
  public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    Path snapshot = null;
    boolean skipHashCheck = false;
    List<String> memberFlags = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String flag = arg.replaceFirst("^--?", "");
      if (flag.equals("skip-hash-check") || flag.equals("skip-hash-check=true")) {
        skipHashCheck = true;
      } else if (flag.equals("skip-hash-check=false")) {
        skipHashCheck = false;
      } else if (!arg.startsWith("-") && snapshot == null) {
        snapshot = Path.of(arg);
      } else {
        memberFlags.add(arg);
      }
    }
    if (snapshot == null) {
      err.println("Error: snapshot restore requires exactly one argument");
      err.println("usage: vetcd snapshot restore <filename> [--data-dir DIR] [--name NAME] [--initial-cluster ...]"
          + " [--initial-cluster-token TOKEN] [--initial-advertise-peer-urls URLS] [--wal-dir DIR] [--skip-hash-check]");
      return 1;
    }
    try {
      if (!Files.isRegularFile(snapshot)) {
        throw new java.nio.file.NoSuchFileException(snapshot.toString());
      }
      ServerConfig config = ServerConfig.parse(memberFlags.toArray(String[]::new), env);
      EtcdBackup.Restored r = EtcdBackup.restore(snapshot, skipHashCheck, config);
      out.printf("restored snapshot %s into %s: revision %d, compacted at %d, %d revisions, %d leases;"
              + " member %x (%s) of cluster %x%n", snapshot, config.dataDir(), r.revision(), Math.max(0, r.compactRevision()),
          r.revisions(), r.leases(), r.memberId(), config.name(), r.clusterId());
      return 0;
    } catch (ServerConfig.UsageException e) {
      err.println("Error: " + e.getMessage());
      return 1;
    } catch (Exception e) {
      err.println("Error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return 1;
    }
  }
}
