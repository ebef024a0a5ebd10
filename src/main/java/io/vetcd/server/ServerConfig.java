package io.vetcd.server;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.Yaml;

/**
 * A member's settings, read as etcd reads them: command-line flags (either {@code --flag value},
 * {@code --flag=value} or a single dash), then {@code ETCD_*} environment variables for flags not
 * given, then etcd's defaults. {@code --config-file} (YAML, etcd's keys) replaces flags and env.
 */
public final class ServerConfig {
  /** Thrown for a bad command line; the message is what etcd prints. */
  public static final class UsageException extends Exception {
    public UsageException(String message) {
      super(message);
    }
  }

  private record Flag(String name, String defaultValue, String help) {
    /** Go boolean flags: {@code --flag} alone means true; a value only as {@code --flag=false}. */
    boolean isBoolean() {
      return defaultValue.equals("false") || defaultValue.equals("true");
    }
  }

  private static final String IGNORED = "Taken for compatibility with etcd; no effect in vetcd.";
  private static final String UNSUPPORTED = "Not supported by vetcd: refused unless left at its default.";

  private static final List<Flag> FLAGS = List.of(
      new Flag("name", "default", "Human-readable name for this member."),
      new Flag("data-dir", "${name}.vetcd", "Path to the data directory."),
      new Flag("wal-dir", "", "Path to the dedicated wal directory."),
      new Flag("listen-client-urls", "http://localhost:2379", "List of URLs to listen on for client traffic."),
      new Flag("advertise-client-urls", "http://localhost:2379", "List of this member's client URLs to advertise to the public."),
      new Flag("listen-peer-urls", "http://localhost:2380", "List of URLs to listen on for peer traffic."),
      new Flag("initial-advertise-peer-urls", "http://localhost:2380", "List of this member's peer URLs to advertise to the rest of the cluster."),
      new Flag("initial-cluster", "${name}=http://localhost:2380", "Initial cluster configuration for bootstrapping."),
      new Flag("initial-cluster-state", "new", "Initial cluster state ('new' or 'existing')."),
      new Flag("initial-cluster-token", "etcd-cluster", "Initial cluster token for the etcd cluster during bootstrap."),
      new Flag("heartbeat-interval", "100", "Time (in milliseconds) of a heartbeat interval."),
      new Flag("election-timeout", "1000", "Time (in milliseconds) for an election to timeout."),
      new Flag("snapshot-count", "100000", "Number of committed transactions to trigger a snapshot to disk."),
      new Flag("strict-reconfig-check", "true", "Reject reconfiguration requests that would cause quorum loss."),
      new Flag("quota-backend-bytes", "0", "Raise alarms when backend size exceeds the given quota. 0 means use the default quota."),
      new Flag("max-request-bytes", "1572864", "Maximum client request size in bytes the server will accept."),
      new Flag("max-txn-ops", "128", "Maximum number of operations permitted in a transaction."),
      new Flag("auto-compaction-mode", "periodic", "Interpret 'auto-compaction-retention' one of: periodic|revision."),
      new Flag("auto-compaction-retention", "0", "Auto compaction retention for mvcc key value store. 0 means disable auto compaction."),
      new Flag("log-level", "info", "Configures log level. Only supports debug, info, warn, error, panic, or fatal."),
      new Flag("logger", "zap", "Specify 'zap' for structured logging or 'capnslog'."),
      new Flag("log-outputs", "default", "Specify 'stdout' or 'stderr' or file paths (comma-separated) for the logs."),
      new Flag("log-format", "console", "Configures log format. Only supports json, console."),
      new Flag("enable-v2", "false", "Accept etcd V2 client requests (not supported by vetcd)."),
      new Flag("auth-token", "simple", "Specify auth token specific options: 'simple' or 'jwt,pub-key=...,priv-key=...,sign-method=...,ttl=...'."),
      new Flag("auth-token-ttl", "300", "The lifetime in seconds of the auth token."),
      new Flag("bcrypt-cost", "10", "Specify bcrypt algorithm cost factor for auth password hashing."),
      new Flag("cert-file", "", "Path to the client server TLS cert file."),
      new Flag("key-file", "", "Path to the client server TLS key file."),
      new Flag("trusted-ca-file", "", "Path to the client server TLS trusted CA cert file."),
      new Flag("client-cert-auth", "false", "Enable client cert authentication."),
      new Flag("auto-tls", "false", "Client TLS using generated certificates."),
      new Flag("peer-cert-file", "", "Path to the peer server TLS cert file."),
      new Flag("peer-key-file", "", "Path to the peer server TLS key file."),
      new Flag("peer-trusted-ca-file", "", "Path to the peer server TLS trusted CA file."),
      new Flag("peer-client-cert-auth", "false", "Enable peer client cert authentication."),
      new Flag("peer-auto-tls", "false", "Peer TLS using generated certificates."),
      new Flag("listen-metrics-urls", "", "List of URLs to listen on for the metrics and health endpoints."),
      new Flag("experimental-watch-progress-notify-interval", "10m0s", "Duration of periodic watch progress notifications."),
      // etcd's tuning and diagnostics flags that have no counterpart here: taken, with no effect (logged at start).
      new Flag("initial-election-tick-advance", "true", IGNORED),
      new Flag("max-snapshots", "5", IGNORED),
      new Flag("max-wals", "5", IGNORED),
      new Flag("backend-batch-interval", "0s", IGNORED),
      new Flag("backend-batch-limit", "0", IGNORED),
      new Flag("max-concurrent-streams", "4294967295", IGNORED),
      new Flag("grpc-keepalive-min-time", "5s", IGNORED),
      new Flag("grpc-keepalive-interval", "2h0m0s", IGNORED),
      new Flag("grpc-keepalive-timeout", "20s", IGNORED),
      new Flag("pre-vote", "false", IGNORED),
      new Flag("cors", "", IGNORED),
      new Flag("host-whitelist", "*", IGNORED),
      new Flag("enable-pprof", "false", IGNORED),
      new Flag("metrics", "basic", IGNORED),
      new Flag("debug", "false", IGNORED),
      new Flag("log-package-levels", "", IGNORED),
      new Flag("experimental-initial-corrupt-check", "false", IGNORED),
      new Flag("experimental-corrupt-check-time", "0s", IGNORED),
      new Flag("experimental-enable-lease-checkpoint", "false", IGNORED),
      new Flag("experimental-compaction-batch-limit", "1000", IGNORED),
      new Flag("experimental-backend-bbolt-freelist-type", "map", IGNORED),
      new Flag("experimental-warning-apply-duration", "100ms", IGNORED),
      new Flag("experimental-peer-skip-client-san-verification", "false", IGNORED),
      // etcd features vetcd does not have: refused when given a value, rather than silently not done.
      new Flag("discovery", "", UNSUPPORTED),
      new Flag("discovery-fallback", "proxy", UNSUPPORTED),
      new Flag("discovery-proxy", "", UNSUPPORTED),
      new Flag("discovery-srv", "", UNSUPPORTED),
      new Flag("discovery-srv-name", "", UNSUPPORTED),
      new Flag("proxy", "off", UNSUPPORTED),
      new Flag("force-new-cluster", "false", UNSUPPORTED),
      new Flag("client-crl-file", "", UNSUPPORTED),
      new Flag("client-cert-allowed-hostname", "", UNSUPPORTED),
      new Flag("peer-crl-file", "", UNSUPPORTED),
      new Flag("peer-cert-allowed-cn", "", UNSUPPORTED),
      new Flag("peer-cert-allowed-hostname", "", UNSUPPORTED),
      new Flag("cipher-suites", "", UNSUPPORTED),
      new Flag("experimental-enable-v2v3", "", UNSUPPORTED),
      new Flag("config-file", "", "Path to the server configuration file (YAML)."));


  private final Map<String, String> values;

  private ServerConfig(Map<String, String> values) {
    this.values = values;
  }

  public static ServerConfig parse(String[] args, Map<String, String> env) throws UsageException {
    Map<String, String> given = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("-") || arg.equals("-") || arg.equals("--")) {
        throw new UsageException("'" + arg + "' is not a valid flag");
      }
      String body = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
      String name = body;
      String value = null;
      int eq = body.indexOf('=');
      if (eq >= 0) {
        name = body.substring(0, eq);
        value = body.substring(eq + 1);
      }
      if (name.equals("h") || name.equals("help")) {
        throw new UsageException("");
      }
      if (name.equals("version")) {
        given.put("version", "true");
        continue;
      }
      if (flag(name) == null) {
        throw new UsageException("flag provided but not defined: -" + name);
      }
      if (value == null && flag(name).isBoolean()) {
        value = "true";
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new UsageException("flag needs an argument: -" + name);
        }
        value = args[++i];
      }
      given.put(name, value);
    }
    Map<String, String> values = new LinkedHashMap<>();
    String configFile = given.getOrDefault("config-file", env.getOrDefault("ETCD_CONFIG_FILE", ""));
    if (!configFile.isEmpty()) {
      values.putAll(readConfigFile(Path.of(configFile)));
    } else {
      for (Flag flag : FLAGS) {
        String envName = "ETCD_" + flag.name.toUpperCase(Locale.ROOT).replace('-', '_');
        if (given.containsKey(flag.name)) {
          values.put(flag.name, given.get(flag.name));
        } else if (env.containsKey(envName)) {
          values.put(flag.name, env.get(envName));
        }
      }
    }
    if (given.containsKey("version")) {
      values.put("version", "true");
    }
    for (Flag flag : FLAGS) {
      values.putIfAbsent(flag.name, flag.defaultValue);
    }
    String name = values.get("name");
    values.replaceAll((k, v) -> v.replace("${name}", name));
    ServerConfig config = new ServerConfig(values);
    config.validate();
    return config;
  }

  private static Map<String, String> readConfigFile(Path file) throws UsageException {
    Object loaded;
    try {
      loaded = new Yaml().load(Files.readString(file));
    } catch (IOException | RuntimeException e) {
      throw new UsageException("error verifying flags, cannot read config file " + file + ": " + e.getMessage());
    }
    Map<String, String> values = new LinkedHashMap<>();
    if (loaded instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        String key = String.valueOf(e.getKey());
        if (flag(key) != null && e.getValue() != null) {
          values.put(key, String.valueOf(e.getValue()));
        }
      }
    }
    return values;
  }

  private void validate() throws UsageException {
    String state = get("initial-cluster-state");
    if (!state.equals("new") && !state.equals("existing")) {
      throw new UsageException("invalid value \"" + state + "\" for flag -initial-cluster-state");
    }
    for (Flag flag : FLAGS) {
      if (flag.help.equals(UNSUPPORTED) && !get(flag.name).equals(flag.defaultValue)) {
        throw new UsageException("--" + flag.name + " is not supported by vetcd");
      }
    }
    for (String n : List.of("experimental-watch-progress-notify-interval", "backend-batch-interval",
        "grpc-keepalive-min-time", "grpc-keepalive-interval", "grpc-keepalive-timeout",
        "experimental-corrupt-check-time", "experimental-warning-apply-duration")) {
      if (goDurationMillis(get(n)) < 0) {
        throw new UsageException("invalid value \"" + get(n) + "\" for flag -" + n + ": parse error");
      }
    }
    for (String n : List.of("heartbeat-interval", "election-timeout", "snapshot-count", "quota-backend-bytes",
        "max-request-bytes", "max-txn-ops", "max-snapshots", "max-wals", "backend-batch-limit",
        "max-concurrent-streams", "experimental-compaction-batch-limit")) {
      try {
        Long.parseLong(get(n));
      } catch (NumberFormatException e) {
        throw new UsageException("invalid value \"" + get(n) + "\" for flag -" + n + ": parse error");
      }
    }
    if (5 * heartbeatIntervalMillis() > electionTimeoutMillis()) {
      throw new UsageException("--election-timeout[" + electionTimeoutMillis()
          + "ms] should be at least as 5 times as --heartbeat-interval[" + heartbeatIntervalMillis() + "ms]");
    }
    if (!initialCluster().containsKey(name())) {
      throw new UsageException("couldn't find local name \"" + name() + "\" in the initial cluster configuration");
    }
    clientUrls();
    metricsUrls();
    initialAdvertisePeerUrls();
  }

  private static Flag flag(String name) {
    return FLAGS.stream().filter(f -> f.name.equals(name)).findFirst().orElse(null);
  }

  public static void printUsage(PrintStream out) {
    out.println("Usage:\n\n  vetcd [flags]\n    Start a vetcd member (etcd v3 compatible).\n\nMember and clustering flags:");
    for (Flag flag : FLAGS) {
      out.printf("  --%s '%s'%n        %s%n", flag.name, flag.defaultValue, flag.help);
    }
  }

  public String get(String name) {
    return values.get(name);
  }

  public boolean printVersionOnly() {
    return values.containsKey("version");
  }

  public String name() {
    return get("name");
  }

  public Path dataDir() {
    return Path.of(get("data-dir"));
  }

  public Path walDir() {
    String walDir = get("wal-dir");
    return walDir.isEmpty() ? dataDir().resolve("member").resolve("wal") : Path.of(walDir);
  }

  /** Where /metrics and /health are served besides the client URLs (etcd's --listen-metrics-urls). */
  public List<URI> metricsUrls() throws UsageException {
    return get("listen-metrics-urls").isBlank() ? List.of() : urls("listen-metrics-urls");
  }

  public long watchProgressNotifyIntervalMillis() {
    return goDurationMillis(get("experimental-watch-progress-notify-interval"));
  }

  /** The etcd flags given that vetcd takes but does nothing with, for a line in the log. */
  public List<String> flagsWithoutEffect() {
    return FLAGS.stream().filter(f -> f.help.equals(IGNORED) && !get(f.name).equals(f.defaultValue))
        .map(f -> f.name).toList();
  }

  /**
   * A Go duration ("10m0s", "5s", "1.5h", "100ms", "0") in milliseconds, rounded down; -1 if it is not
   * one. Negative durations are refused too (none of etcd's duration flags takes one).
   */
  static long goDurationMillis(String text) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)")
        .matcher(text);
    if (text.equals("0")) {
      return 0;
    }
    double nanos = 0;
    int at = 0;
    while (at < text.length() && m.find(at) && m.start() == at) {
      double unitNanos = switch (m.group(2)) {
        case "ns" -> 1;
        case "us", "µs" -> 1e3;
        case "ms" -> 1e6;
        case "s" -> 1e9;
        case "m" -> 60e9;
        default -> 3600e9;
      };
      nanos += Double.parseDouble(m.group(1)) * unitNanos;
      at = m.end();
    }
    return at == text.length() && at > 0 ? (long) (nanos / 1e6) : -1;
  }

  public List<URI> clientUrls() throws UsageException {
    return urls("listen-client-urls");
  }

  public List<String> advertiseClientUrls() {
    return List.of(get("advertise-client-urls").split(","));
  }

  public List<URI> peerUrls() throws UsageException {
    return urls("listen-peer-urls");
  }

  public List<String> initialAdvertisePeerUrls() throws UsageException {
    List<String> result = new ArrayList<>();
    for (URI uri : urls("initial-advertise-peer-urls")) {
      result.add(uri.toString());
    }
    return result;
  }

  /** name → peer URLs, in the order given. */
  public Map<String, List<String>> initialCluster() throws UsageException {
    Map<String, List<String>> cluster = new LinkedHashMap<>();
    for (String part : get("initial-cluster").split(",")) {
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw new UsageException("error setting up initial cluster: " + part + " is not in name=url form");
      }
      cluster.computeIfAbsent(part.substring(0, eq).trim(), k -> new ArrayList<>()).add(part.substring(eq + 1).trim());
    }
    return cluster;
  }

  public boolean initialClusterStateNew() {
    return get("initial-cluster-state").equals("new");
  }

  public String clusterToken() {
    return get("initial-cluster-token");
  }

  public long heartbeatIntervalMillis() {
    return Long.parseLong(get("heartbeat-interval"));
  }

  public long electionTimeoutMillis() {
    return Long.parseLong(get("election-timeout"));
  }

  public long snapshotCount() {
    return Long.parseLong(get("snapshot-count"));
  }

  public long maxRequestBytes() {
    return Long.parseLong(get("max-request-bytes"));
  }

  public int maxTxnOps() {
    return Integer.parseInt(get("max-txn-ops"));
  }

  public long quotaBackendBytes() {
    long quota = Long.parseLong(get("quota-backend-bytes"));
    return quota <= 0 ? 2L * 1024 * 1024 * 1024 : quota;
  }

  public boolean isEnabled(String booleanFlag) {
    return Boolean.parseBoolean(get(booleanFlag));
  }

  public String logLevel() {
    return get("log-level");
  }

  private List<URI> urls(String flag) throws UsageException {
    List<URI> result = new ArrayList<>();
    for (String s : get(flag).split(",")) {
      try {
        URI uri = new URI(s.trim());
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https")
            || uri.getScheme().equals("unix") || uri.getScheme().equals("unixs")) || uri.getHost() == null) {
          throw new UsageException("URL scheme must be http, https, unix, or unixs: " + s);
        }
        if (uri.getPort() <= 0) {
          throw new UsageException("URL address does not have the form \"host:port\": " + s);
        }
        result.add(uri);
      } catch (java.net.URISyntaxException e) {
        throw new UsageException("invalid value \"" + s + "\" for flag -" + flag + ": " + e.getMessage());
      }
    }
    return result;
  }
}
