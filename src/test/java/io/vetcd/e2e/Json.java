package io.vetcd.e2e;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tiny JSON reader/writer for etcdctl output. Objects become LinkedHashMap (field order kept),
 * arrays become List, numbers become {@link Num} holding the raw text (uint64 ids overflow long),
 * strings become String, true/false Boolean, null {@link #NULL}.
 */
public final class Json {
  private Json() { }

  public static final Object NULL = new Object() {
    @Override public String toString() { return "null"; }
  };

  /** A JSON number kept as its literal text. */
  public record Num(String raw) {
    public long longValue() { return Long.parseLong(raw); }
    public java.math.BigInteger big() { return new java.math.BigInteger(raw); }
    @Override public String toString() { return raw; }
  }

  public static Object parse(String s) {
    List<Object> all = parseAll(s);
    if (all.size() != 1) throw new IllegalArgumentException("expected one JSON value, got " + all.size() + ": " + s);
    return all.get(0);
  }

  /** Parses a sequence of whitespace-separated JSON values (e.g. one per line). */
  public static List<Object> parseAll(String s) {
    Parser p = new Parser(s);
    List<Object> out = new ArrayList<>();
    p.ws();
    while (p.i < s.length()) {
      out.add(p.value());
      p.ws();
    }
    return out;
  }

  /** Navigates objects by key and arrays by integer index; null if absent. */
  public static Object at(Object o, Object... path) {
    for (Object k : path) {
      if (o instanceof Map<?, ?> m && k instanceof String) o = m.get(k);
      else if (o instanceof List<?> l && k instanceof Integer idx) o = idx < l.size() ? l.get(idx) : null;
      else return null;
      if (o == null) return null;
    }
    return o;
  }

  public static String write(Object o) {
    StringBuilder sb = new StringBuilder();
    write(o, sb, -1, 0);
    return sb.toString();
  }

  public static String pretty(Object o) {
    StringBuilder sb = new StringBuilder();
    write(o, sb, 2, 0);
    return sb.toString();
  }

  private static void write(Object o, StringBuilder sb, int indent, int level) {
    if (o instanceof Map<?, ?> m) {
      if (m.isEmpty()) { sb.append("{}"); return; }
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) sb.append(',');
        first = false;
        nl(sb, indent, level + 1);
        str(e.getKey().toString(), sb);
        sb.append(indent >= 0 ? ": " : ":");
        write(e.getValue(), sb, indent, level + 1);
      }
      nl(sb, indent, level);
      sb.append('}');
    } else if (o instanceof List<?> l) {
      if (l.isEmpty()) { sb.append("[]"); return; }
      sb.append('[');
      boolean first = true;
      for (Object v : l) {
        if (!first) sb.append(',');
        first = false;
        nl(sb, indent, level + 1);
        write(v, sb, indent, level + 1);
      }
      nl(sb, indent, level);
      sb.append(']');
    } else if (o instanceof String s) {
      str(s, sb);
    } else {
      sb.append(o);
    }
  }

  private static void nl(StringBuilder sb, int indent, int level) {
    if (indent < 0) return;
    sb.append('\n');
    sb.append(" ".repeat(indent * level));
  }

  private static void str(String s, StringBuilder sb) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    sb.append('"');
  }

  private static final class Parser {
    final String s;
    int i;

    Parser(String s) { this.s = s; }

    void ws() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
    }

    IllegalArgumentException err(String what) {
      return new IllegalArgumentException(what + " at " + i + " in: " + s);
    }

    Object value() {
      ws();
      if (i >= s.length()) throw err("unexpected end");
      char c = s.charAt(i);
      switch (c) {
        case '{': {
          i++;
          Map<String, Object> m = new LinkedHashMap<>();
          ws();
          if (s.charAt(i) == '}') { i++; return m; }
          while (true) {
            ws();
            if (s.charAt(i) != '"') throw err("expected key");
            String k = string();
            ws();
            if (s.charAt(i++) != ':') throw err("expected ':'");
            m.put(k, value());
            ws();
            char d = s.charAt(i++);
            if (d == '}') return m;
            if (d != ',') throw err("expected ',' or '}'");
          }
        }
        case '[': {
          i++;
          List<Object> l = new ArrayList<>();
          ws();
          if (s.charAt(i) == ']') { i++; return l; }
          while (true) {
            l.add(value());
            ws();
            char d = s.charAt(i++);
            if (d == ']') return l;
            if (d != ',') throw err("expected ',' or ']'");
          }
        }
        case '"':
          return string();
        case 't':
          expect("true");
          return Boolean.TRUE;
        case 'f':
          expect("false");
          return Boolean.FALSE;
        case 'n':
          expect("null");
          return NULL;
        default: {
          int st = i;
          while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
          if (st == i) throw err("unexpected char '" + c + "'");
          return new Num(s.substring(st, i));
        }
      }
    }

    void expect(String w) {
      if (!s.startsWith(w, i)) throw err("expected " + w);
      i += w.length();
    }

    String string() {
      i++; // opening quote
      StringBuilder sb = new StringBuilder();
      while (true) {
        if (i >= s.length()) throw err("unterminated string");
        char c = s.charAt(i++);
        if (c == '"') return sb.toString();
        if (c != '\\') { sb.append(c); continue; }
        char e = s.charAt(i++);
        switch (e) {
          case 'n' -> sb.append('\n');
          case 't' -> sb.append('\t');
          case 'r' -> sb.append('\r');
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case 'u' -> {
            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          default -> sb.append(e);
        }
      }
    }
  }
}
