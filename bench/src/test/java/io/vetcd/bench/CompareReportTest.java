package io.vetcd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench/compare's report: medians over rounds, ratios, RSS, the table and the chart. */
class CompareReportTest {
  @TempDir
  Path dir;

  void run(String members, String workload, String system, int round, double throughput, double p50, double p99,
      long rssKib, long failed) throws Exception {
    Path d = dir.resolve(members).resolve(workload);
    Files.createDirectories(d);
    Files.writeString(d.resolve(system + "-" + round + ".json"), """
        {"workload":"put","unit":"requests","expected":10,"succeeded":10,"failed":%d,"errors":{},
         "duration_seconds":1.0,"throughput_per_second":%s,
         "latency_ms":{"put":{"count":10,"p50":%s,"p90":1,"p99":%s,"p99_9":1,"max":1}}}
        """.formatted(failed, throughput, p50, p99));
    Files.writeString(d.resolve(system + "-" + round + ".rss"), rssKib + "\n");
  }

  @Test
  void takes_medians_over_rounds_and_divides_vetcd_by_etcd() throws Exception {
    Files.writeString(dir.resolve("workloads.tsv"), "put-1\tput --clients 1\nwatch\twatch --watchers 100\n");
    Files.writeString(dir.resolve("machine.txt"), "date: today\ncpus: 2\ncpu model: AMD EPYC\nrounds: 3\n");
    run("1", "put-1", "etcd", 1, 100, 2, 8, 30 * 1024, 0);
    run("1", "put-1", "etcd", 2, 300, 1, 6, 40 * 1024, 0);
    run("1", "put-1", "etcd", 3, 200, 3, 7, 50 * 1024, 1);
    run("1", "put-1", "vetcd", 1, 150, 4, 9, 300 * 1024, 0);
    run("1", "put-1", "vetcd", 2, 100, 5, 9, 310 * 1024, 0);
    run("1", "put-1", "vetcd", 3, 500, 6, 9, 320 * 1024, 2);

    List<CompareReport.Row> rows = CompareReport.rows(dir);
    assertEquals(1, rows.size(), "watch has no results and is left out");
    CompareReport.Row put = rows.get(0);
    assertEquals(200, put.etcd().throughputPerSecond());
    assertEquals(150, put.vetcd().throughputPerSecond());
    assertEquals(0.75, put.ratio(), 1e-9);
    assertEquals(2, put.etcd().p50Millis());
    assertEquals(7, put.etcd().p99Millis());
    assertEquals(40, put.etcd().rssMebibytes());
    assertEquals(310, put.vetcd().rssMebibytes());
    assertEquals(1, put.etcd().failures());
    assertEquals(2, put.vetcd().failures());

    Path md = dir.resolve("RESULTS.md");
    Path svg = dir.resolve("ratios.svg");
    CompareReport.main(new String[] {dir.toString(), md.toString(), svg.toString()});
    String table = Files.readString(md);
    assertTrue(table.contains("| 1 | put-1 | 200 | 150 | **0.75** | 2.00 | 5.00 | 7.00 | 9.00 | 40 | 310 | 1 / 2 |"), table);
    assertTrue(table.contains("AMD EPYC") && table.contains("today") && table.contains("`put --clients 1`"), table);
    String chart = Files.readString(svg);
    assertTrue(chart.startsWith("<svg") && chart.contains(">0.75<") && chart.contains("put-1, 1 member"), chart);
  }

  @Test
  void the_memory_runs_get_their_own_table_with_rss_after_the_load_and_settled() throws Exception {
    Files.writeString(dir.resolve("workloads.tsv"), "put-1\tput --clients 1\n");
    Files.writeString(dir.resolve("machine.txt"), "date: today\nmemory load: txn-put --txn-ops 100\n"
        + "memory settle seconds: 15\n");
    run("1", "put-1", "etcd", 1, 100, 2, 8, 30 * 1024, 0);
    run("1", "put-1", "vetcd", 1, 150, 4, 9, 300 * 1024, 0);
    long[][] etcdRss = {{1000, 1000}, {1040, 1030}, {1020, 1020}};
    long[][] vetcdRss = {{1300, 800}, {900, 850}, {950, 900}};
    for (int round = 1; round <= 3; round++) {
      run(CompareReport.MEMORY_DIR, "memory-1m", "etcd", round, 700, 10, 20, etcdRss[round - 1][0] * 1024, 0);
      run(CompareReport.MEMORY_DIR, "memory-1m", "vetcd", round, 650, 10, 20, vetcdRss[round - 1][0] * 1024, 0);
      Path d = dir.resolve(CompareReport.MEMORY_DIR).resolve("memory-1m");
      Files.writeString(d.resolve("etcd-" + round + ".rss-settled"), etcdRss[round - 1][1] * 1024 + "\n");
      Files.writeString(d.resolve("vetcd-" + round + ".rss-settled"), vetcdRss[round - 1][1] * 1024 + "\n");
    }

    assertEquals(1, CompareReport.rows(dir).size(), "the memory runs are not a member count");
    List<CompareReport.MemoryRow> memory = CompareReport.memoryRows(dir);
    assertEquals(1, memory.size());
    assertEquals(1020, memory.get(0).etcd().rssMebibytes());
    assertEquals(950, memory.get(0).vetcd().rssMebibytes());
    assertEquals(1020, memory.get(0).etcd().rssSettledMebibytes());
    assertEquals(850, memory.get(0).vetcd().rssSettledMebibytes());

    Path md = dir.resolve("RESULTS.md");
    CompareReport.main(new String[] {dir.toString(), md.toString(), dir.resolve("ratios.svg").toString()});
    String report = Files.readString(md);
    assertTrue(report.contains("## Memory with a million keys") && report.contains("`bench/run txn-put --txn-ops 100`")
        && report.contains("15 quiet seconds"), report);
    assertTrue(report.contains("| memory-1m | 1020 | 950 | **0.93** | 1020 | 850 | **0.83** | 700 | 650 | 0 / 0 |"), report);
  }

  @Test
  void median_of_an_even_count_is_the_mean_of_the_middle_two() {
    assertEquals(2.5, CompareReport.median(new double[] {4, 1, 2, 3}));
    assertEquals(3, CompareReport.median(new double[] {5, 3, 1}));
  }
}
