package io.vetcd.api.http;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerResponse;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes an HTTP/1.x response head as Go's net/http (etcd's gateway) does: the handler's headers in
 * canonical form ({@code Content-Type}) sorted by name, then {@code Date}, {@code Content-Length},
 * a sniffed {@code Content-Type}, {@code Connection} and {@code Transfer-Encoding}. Clients do not
 * care; a side-by-side {@code curl -i} of etcd and vetcd then shows the same head.
 */
final class GoHeaders {
  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);

  private GoHeaders() {}

  /**
   * For {@code headersEndHandler}; {@code sniffedContentType}: etcd's handler set no content type and
   * Go sniffed one, so it comes after Content-Length.
   */
  static void reorder(HttpServerResponse response, boolean sniffedContentType) {
    MultiMap headers = response.headers();
    List<Map.Entry<String, String>> regular = new ArrayList<>();
    String contentLength = null;
    String transferEncoding = null;
    String date = null;
    String contentType = null;
    String connection = null;
    for (Map.Entry<String, String> e : headers) {
      String name = canonical(e.getKey());
      switch (name) {
        case "Content-Length" -> contentLength = e.getValue();
        case "Transfer-Encoding" -> transferEncoding = e.getValue();
        case "Date" -> date = e.getValue();
        case "Connection" -> connection = e.getValue();
        case "Content-Type" -> {
          if (sniffedContentType) {
            contentType = e.getValue();
          } else {
            regular.add(Map.entry(name, e.getValue()));
          }
        }
        default -> regular.add(Map.entry(name, e.getValue()));
      }
    }
    regular.sort(Map.Entry.comparingByKey()); // stable: repeated headers keep their order
    headers.clear();
    for (Map.Entry<String, String> e : regular) {
      headers.add(e.getKey(), e.getValue());
    }
    headers.add("Date", date != null ? date : HTTP_DATE.format(ZonedDateTime.now(ZoneOffset.UTC)));
    if (contentLength != null) {
      headers.add("Content-Length", contentLength);
    }
    if (contentType != null) {
      headers.add("Content-Type", contentType);
    }
    if (connection != null) {
      headers.add("Connection", connection);
    }
    if (transferEncoding != null) {
      headers.add("Transfer-Encoding", transferEncoding);
    }
  }

  /** Go's canonical header key: the first letter and every letter after '-' upper case, the rest lower. */
  static String canonical(String name) {
    StringBuilder sb = new StringBuilder(name.length());
    boolean upper = true;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      sb.append(upper ? Character.toUpperCase(c) : Character.toLowerCase(c));
      upper = c == '-';
    }
    return sb.toString();
  }
}
