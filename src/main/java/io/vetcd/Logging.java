package io.vetcd;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.util.List;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Applies etcd's logging flags: {@code --log-level}, {@code --log-outputs} (default = stderr,
 * stdout, stderr or file paths) and {@code --log-format} (console or json, one object a line).
 * Also routes java.util.logging / System.Logger (used by the pure cores) to SLF4J.
 */
final class Logging {
  private Logging() {}

  static void configure(String level, List<String> outputs, String format) {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Level logbackLevel = switch (level.toLowerCase()) {
      case "debug" -> Level.DEBUG;
      case "warn" -> Level.WARN;
      case "error", "panic", "fatal" -> Level.ERROR;
      default -> Level.INFO;
    };
    context.getLogger("io.vetcd").setLevel(logbackLevel);
    boolean json = "json".equalsIgnoreCase(format);
    boolean defaultOutputs = outputs.isEmpty() || outputs.equals(List.of("default"));
    if (!json && defaultOutputs) {
      return; // logback.xml's console appender on stderr
    }
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.detachAndStopAllAppenders();
    for (String output : defaultOutputs ? List.of("stderr") : outputs) {
      OutputStreamAppender<ILoggingEvent> appender;
      if (output.equals("stderr") || output.equals("stdout")) {
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setTarget(output.equals("stderr") ? "System.err" : "System.out");
        appender = console;
      } else {
        FileAppender<ILoggingEvent> file = new FileAppender<>();
        file.setFile(output);
        file.setAppend(true);
        appender = file;
      }
      appender.setContext(context);
      appender.setName(output);
      appender.setEncoder(encoder(context, json));
      appender.start();
      root.addAppender(appender);
    }
  }

  private static Encoder<ILoggingEvent> encoder(LoggerContext context, boolean json) {
    if (json) {
      JsonEncoder encoder = new JsonEncoder();
      encoder.setContext(context);
      encoder.setWithSequenceNumber(false);
      encoder.setWithContext(false);
      encoder.setWithMDC(false);
      encoder.setWithKVPList(false);
      encoder.setWithMessage(false);
      encoder.setWithArguments(false);
      encoder.setWithFormattedMessage(true);
      encoder.start();
      return encoder;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0}: %msg%n");
    encoder.start();
    return encoder;
  }
}
