package io.vetcd.bench;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/** A one-line progress bar on stderr, redrawn a few times a second from a daemon thread. */
final class ProgressBar implements AutoCloseable {
  private static final int WIDTH_CHARS = 30;
  private static final long REDRAW_INTERVAL_MILLIS = 250;
  private final PrintStream out;
  private final String label;
  private final long total;
  private final LongSupplier done;
  private final LongSupplier failed;
  private final long startNanos = System.nanoTime();
  private final Thread thread;
  private volatile boolean running = true;

  private ProgressBar(PrintStream out, String label, long total, LongSupplier done, LongSupplier failed) {
    this.out = out;
    this.label = label;
    this.total = total;
    this.done = done;
    this.failed = failed;
    this.thread = new Thread(this::loop, "bench-progress");
    thread.setDaemon(true);
    thread.start();
  }

  /** A bar, or nothing if {@code enabled} is false. */
  static AutoCloseable start(boolean enabled, String label, long total, LongSupplier done, LongSupplier failed) {
    if (!enabled) return () -> {};
    return new ProgressBar(System.err, label, total, done, failed);
  }

  private void loop() {
    while (running) {
      draw();
      try {
        Thread.sleep(REDRAW_INTERVAL_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private synchronized void draw() {
    long d = done.getAsLong();
    long f = failed.getAsLong();
    long finished = d + f;
    double fraction = total == 0 ? 1 : Math.min(1, (double) finished / total);
    int filled = (int) (fraction * WIDTH_CHARS);
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    String bar = "=".repeat(filled) + (filled < WIDTH_CHARS ? ">" + " ".repeat(WIDTH_CHARS - filled - 1) : "");
    out.print(String.format(Locale.ROOT, "\r%s [%s] %3.0f%% %d/%d %.0f/s errors %d ", label, bar, fraction * 100,
        finished, total, seconds > 0 ? d / seconds : 0.0, f));
    out.flush();
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    draw();
    out.println();
  }
}
