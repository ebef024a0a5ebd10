package io.vetcd.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The getting-started walkthrough through etcd's own Go client (clientv3 3.4, from Debian's
 * golang-etcd-server-dev, which the test command installs): the same program against a fresh real
 * etcd and a fresh vetcd must print the same transcript.
 */
class GoClientV3Test {
  static Path binary;

  @BeforeAll
  static void build() throws Exception {
    Path source = Path.of("src/test/go/walkthrough").toAbsolutePath();
    Path out = Path.of("target/go/walkthrough").toAbsolutePath();
    Files.createDirectories(out.getParent());
    ProcessBuilder go = new ProcessBuilder("go", "build", "-o", out.toString(), ".").directory(source.toFile())
        .redirectErrorStream(true);
    go.environment().put("GO111MODULE", "off");
    go.environment().put("GOPATH", "/usr/share/gocode");
    go.environment().put("GOCACHE", Path.of("target/go/cache").toAbsolutePath().toString());
    Process p = go.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "go build took too long");
    assertEquals(0, p.exitValue(), "go build of the clientv3 walkthrough failed "
        + "(needs Debian's golang-go and golang-etcd-server-dev):\n" + output);
    binary = out;
  }

  static String run(Member member) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(binary.toString(), member.endpoint())
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(90, TimeUnit.SECONDS), "the walkthrough hung against " + member);
    assertEquals(0, p.exitValue(), "the walkthrough failed against " + member + ":\n" + stdout);
    return stdout;
  }

  @Test
  void walkthrough_prints_the_same_against_etcd_and_vetcd() throws Exception {
    try (Member etcd = Member.start(Member.Kind.ETCD); Member vetcd = Member.start(Member.Kind.VETCD)) {
      String expected = run(etcd);
      String actual = run(vetcd);
      assertEquals(expected, actual);
      assertTrue(actual.contains("watch: DELETE hello"), actual);
      assertEquals(List.of("put hello world: revision 2", "lease grant 200: ttl 200"),
          actual.lines().limit(2).toList());
    }
  }
}
