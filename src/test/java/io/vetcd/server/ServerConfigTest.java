package io.vetcd.server;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServerConfigTest {
  @Test
  void defaults_are_etcds() throws Exception {
    ServerConfig c = ServerConfig.parse(new String[0], Map.of());
    assertEquals("default", c.name());
    assertEquals(Path.of("default.vetcd"), c.dataDir());
    assertEquals("http://localhost:2379", c.clientUrls().get(0).toString());
    assertEquals(List.of("http://localhost:2380"), c.initialAdvertisePeerUrls());
    assertEquals(Map.of("default", List.of("http://localhost:2380")), c.initialCluster());
    assertEquals(100, c.heartbeatIntervalMillis());
    assertEquals(1000, c.electionTimeoutMillis());
    assertEquals(1_572_864, c.maxRequestBytes());
    assertEquals(128, c.maxTxnOps());
    assertTrue(c.initialClusterStateNew());
  }

  @Test
  void flags_in_every_go_form_and_env_fallback() throws Exception {
    ServerConfig c = ServerConfig.parse(new String[] {"--name=infra1", "-data-dir", "/tmp/x",
        "--initial-cluster", "infra1=http://127.0.0.1:2380"}, Map.of("ETCD_HEARTBEAT_INTERVAL", "50",
        "ETCD_NAME", "ignored-because-flag-given"));
    assertEquals("infra1", c.name());
    assertEquals(Path.of("/tmp/x"), c.dataDir());
    assertEquals(50, c.heartbeatIntervalMillis());
  }

  @Test
  void data_dir_default_follows_the_name() throws Exception {
    ServerConfig c = ServerConfig.parse(new String[0], Map.of("ETCD_NAME", "n2", "ETCD_INITIAL_CLUSTER",
        "n2=http://localhost:2380"));
    assertEquals(Path.of("n2.vetcd"), c.dataDir());
  }

  @Test
  void unknown_flag_is_reported_as_etcd_does() {
    ServerConfig.UsageException e = assertThrows(ServerConfig.UsageException.class,
        () -> ServerConfig.parse(new String[] {"--bogus-flag"}, Map.of()));
    assertEquals("flag provided but not defined: -bogus-flag", e.getMessage());
  }

  @Test
  void config_file_replaces_flags() throws Exception {
    Path file = Files.createTempFile("vetcd", ".yml");
    Files.writeString(file, "name: fromfile\ninitial-cluster: fromfile=http://localhost:2380\nelection-timeout: 2000\n");
    ServerConfig c = ServerConfig.parse(new String[] {"--config-file", file.toString(), "--name", "x"}, Map.of());
    assertEquals("fromfile", c.name());
    assertEquals(2000, c.electionTimeoutMillis());
  }

  @Test
  void bad_values_are_refused() {
    assertThrows(ServerConfig.UsageException.class,
        () -> ServerConfig.parse(new String[] {"--initial-cluster-state", "maybe"}, Map.of()));
    assertThrows(ServerConfig.UsageException.class,
        () -> ServerConfig.parse(new String[] {"--heartbeat-interval", "500"}, Map.of()));
    assertThrows(ServerConfig.UsageException.class,
        () -> ServerConfig.parse(new String[] {"--name", "a", "--initial-cluster", "b=http://localhost:2380"}, Map.of()),
        "name missing from the initial cluster");
  }

  @Test
  void member_ids_are_etcds_for_the_same_peer_urls_and_token() throws Exception {
    // etcd 3.4 started with defaults reports member id 8e9e05c52164694d and cluster id cdf818194e3a8c32.
    ServerConfig c = ServerConfig.parse(new String[0], Map.of());
    Membership m = Membership.fromInitialCluster(c.initialCluster(), c.clusterToken(), c.name(), c.advertiseClientUrls());
    assertEquals("8e9e05c52164694d", Long.toHexString(m.localMemberId()));
    assertEquals("cdf818194e3a8c32", Long.toHexString(m.clusterId()));
  }

  @Test
  void etcds_other_flags_are_taken_or_refused_clearly() throws Exception {
    ServerConfig c = ServerConfig.parse(new String[] {"--listen-metrics-urls=http://127.0.0.1:2381",
        "--experimental-watch-progress-notify-interval=5s", "--experimental-initial-corrupt-check=true",
        "--max-wals", "3"}, Map.of());
    assertEquals("http://127.0.0.1:2381", c.metricsUrls().get(0).toString());
    assertEquals(5000, c.watchProgressNotifyIntervalMillis());
    assertEquals(List.of("max-wals", "experimental-initial-corrupt-check"), c.flagsWithoutEffect());
    assertEquals(List.of(), ServerConfig.parse(new String[0], Map.of()).metricsUrls());
    ServerConfig.UsageException refused = assertThrows(ServerConfig.UsageException.class,
        () -> ServerConfig.parse(new String[] {"--discovery", "https://discovery.etcd.io/x"}, Map.of()));
    assertEquals("--discovery is not supported by vetcd", refused.getMessage());
    ServerConfig.UsageException bad = assertThrows(ServerConfig.UsageException.class,
        () -> ServerConfig.parse(new String[] {"--grpc-keepalive-timeout", "ten"}, Map.of()));
    assertEquals("invalid value \"ten\" for flag -grpc-keepalive-timeout: parse error", bad.getMessage());
  }

  @Test
  void go_durations() {
    assertEquals(600_000, ServerConfig.goDurationMillis("10m0s"));
    assertEquals(5400_000, ServerConfig.goDurationMillis("1.5h"));
    assertEquals(100, ServerConfig.goDurationMillis("100ms"));
    assertEquals(0, ServerConfig.goDurationMillis("0"));
    assertEquals(-1, ServerConfig.goDurationMillis("5"));
    assertEquals(-1, ServerConfig.goDurationMillis("-5s"));
    assertEquals(-1, ServerConfig.goDurationMillis(""));
  }
}
