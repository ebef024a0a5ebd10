package io.vetcd.api.http;

import java.nio.charset.StandardCharsets;

/**
 * Checks a request body the way etcd's gateway reads it (Go's JSON decoder reads the first value;
 * anything after it is ignored) and names the first syntax error in Go's words: {@code invalid
 * character 'b' looking for beginning of object key string}, {@code unexpected EOF}, ... A body
 * whose value is not an object gets Go's unmarshal error.
 */
final class GoJsonSyntax {
  /** What the body's first value is. */
  enum Kind { NONE, OBJECT, ARRAY, STRING, NUMBER, BOOL, NULL }

  /** The error, or null and then {@link #kind} says what the first value is. */
  final String error;
  final Kind kind;
  /** The first value's text (what Go decodes; anything after it is ignored), or null on error. */
  final String firstValue;

  private final byte[] in;
  private int pos;

  private GoJsonSyntax(byte[] in) {
    this.in = in;
    Kind k;
    String e;
    try {
      skipSpace();
      if (pos == in.length) {
        k = Kind.NONE;
      } else {
        k = value();
      }
      e = null;
    } catch (Failure f) {
      e = f.getMessage();
      k = null;
    }
    this.error = e;
    this.kind = k;
    this.firstValue = e == null ? new String(in, 0, pos, StandardCharsets.UTF_8) : null;
  }

  static GoJsonSyntax check(String body) {
    return new GoJsonSyntax(body.getBytes(StandardCharsets.UTF_8));
  }

  /** Go's message when the first value is not an object ({@code null} and no value are empty requests). */
  String notAnObject() {
    String what = switch (kind) {
      case ARRAY -> "array";
      case STRING -> "string";
      case NUMBER -> "number";
      case BOOL -> "bool";
      default -> null;
    };
    return what == null ? null : "json: cannot unmarshal " + what + " into Go value of type map[string]json.RawMessage";
  }

  private static final class Failure extends RuntimeException {
    Failure(String message) {
      super(message, null, false, false);
    }
  }

  private Failure invalid(String context) {
    return new Failure("invalid character " + quoteChar(in[pos] & 0xff) + " " + context);
  }

  private int peek() {
    if (pos >= in.length) {
      throw new Failure("unexpected EOF");
    }
    return in[pos] & 0xff;
  }

  private void skipSpace() {
    while (pos < in.length && (in[pos] == ' ' || in[pos] == '\t' || in[pos] == '\n' || in[pos] == '\r')) {
      pos++;
    }
  }

  private Kind value() {
    int c = peek();
    switch (c) {
      case '{' -> {
        pos++;
        object();
        return Kind.OBJECT;
      }
      case '[' -> {
        pos++;
        array();
        return Kind.ARRAY;
      }
      case '"' -> {
        pos++;
        string();
        return Kind.STRING;
      }
      case 't' -> {
        literal("true");
        return Kind.BOOL;
      }
      case 'f' -> {
        literal("false");
        return Kind.BOOL;
      }
      case 'n' -> {
        literal("null");
        return Kind.NULL;
      }
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          number();
          return Kind.NUMBER;
        }
        throw invalid("looking for beginning of value");
      }
    }
  }

  private void object() {
    skipSpace();
    if (peek() == '}') {
      pos++;
      return;
    }
    while (true) {
      skipSpace();
      if (peek() != '"') {
        throw invalid("looking for beginning of object key string");
      }
      pos++;
      string();
      skipSpace();
      if (peek() != ':') {
        throw invalid("after object key");
      }
      pos++;
      skipSpace();
      value();
      skipSpace();
      int c = peek();
      if (c == '}') {
        pos++;
        return;
      }
      if (c != ',') {
        throw invalid("after object key:value pair");
      }
      pos++;
    }
  }

  private void array() {
    skipSpace();
    if (peek() == ']') {
      pos++;
      return;
    }
    while (true) {
      skipSpace();
      value();
      skipSpace();
      int c = peek();
      if (c == ']') {
        pos++;
        return;
      }
      if (c != ',') {
        throw invalid("after array element");
      }
      pos++;
    }
  }

  private void string() {
    while (true) {
      int c = peek();
      if (c == '"') {
        pos++;
        return;
      }
      if (c < 0x20) {
        throw invalid("in string literal");
      }
      pos++;
      if (c == '\\') {
        int e = peek();
        if ("bfnrt\\/\"".indexOf(e) >= 0) {
          pos++;
        } else if (e == 'u') {
          pos++;
          for (int i = 0; i < 4; i++) {
            int h = peek();
            if (Character.digit(h, 16) < 0) {
              throw invalid("in \\u hexadecimal character escape");
            }
            pos++;
          }
        } else {
          throw invalid("in string escape code");
        }
      }
    }
  }

  private void literal(String word) {
    pos++;
    for (int i = 1; i < word.length(); i++) {
      if (peek() != word.charAt(i)) {
        throw invalid("in literal " + word + " (expecting " + quoteChar(word.charAt(i)) + ")");
      }
      pos++;
    }
  }

  private void number() {
    if (peek() == '-') {
      pos++;
      if (!digit(peek())) {
        throw invalid("in numeric literal");
      }
    }
    if (peek() == '0') {
      pos++;
    } else {
      while (pos < in.length && digit(in[pos])) {
        pos++;
      }
    }
    if (pos < in.length && in[pos] == '.') {
      pos++;
      if (!digit(peek())) {
        throw invalid("after decimal point in numeric literal");
      }
      while (pos < in.length && digit(in[pos])) {
        pos++;
      }
    }
    if (pos < in.length && (in[pos] == 'e' || in[pos] == 'E')) {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      if (!digit(peek())) {
        throw invalid("in exponent of numeric literal");
      }
      while (pos < in.length && digit(in[pos])) {
        pos++;
      }
    }
  }

  private static boolean digit(int c) {
    return c >= '0' && c <= '9';
  }

  /** Go's quoteChar: the byte as a Go character literal. */
  static String quoteChar(int c) {
    if (c == '\'') {
      return "'\\''";
    }
    if (c == '"') {
      return "'\"'";
    }
    String body = switch (c) {
      case 7 -> "\\a";
      case '\b' -> "\\b";
      case '\f' -> "\\f";
      case '\n' -> "\\n";
      case '\r' -> "\\r";
      case '\t' -> "\\t";
      case 11 -> "\\v";
      case '\\' -> "\\\\";
      default -> {
        if (c < 0x20 || c == 0x7f) {
          yield String.format("\\x%02x", c);
        }
        if ((c >= 0x80 && c < 0xa0) || c == 0xad) {
          yield String.format("\\u%04x", c);
        }
        yield String.valueOf((char) c);
      }
    };
    return "'" + body + "'";
  }
}
