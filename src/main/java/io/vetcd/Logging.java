package io.vetcd;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/** Applies --log-level and routes java.util.logging / System.Logger (used by the pure cores) to SLF4J. */
final class Logging {
  private Logging() {}

  static void configure(String level) {
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
  }
}
