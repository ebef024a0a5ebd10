package io.vetcd.api.http;

import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a byte stream of concatenated JSON objects (a streaming request body, or the frames of a
 * WebSocket) into one string per top-level object, as the gateway's JSON decoder reads a request
 * stream. Whitespace between objects is skipped. Anything else at the top level, or an object longer
 * than the limit, is an error; after an error the splitter yields nothing more.
 */
final class JsonObjectSplitter {
  private final int maxObjectBytes;
  private final ByteArrayOutputStream current = new ByteArrayOutputStream();
  private int depth;
  private boolean inString;
  private boolean escaped;
  private String error;

  JsonObjectSplitter(int maxObjectBytes) {
    this.maxObjectBytes = maxObjectBytes;
  }

  /** The objects completed by {@code chunk}. */
  List<String> feed(Buffer chunk) {
    return feed(chunk.getBytes());
  }

  List<String> feed(byte[] bytes) {
    List<String> objects = new ArrayList<>();
    if (error != null) {
      return objects;
    }
    int start = depth > 0 ? 0 : -1;
    for (int i = 0; i < bytes.length; i++) {
      byte b = bytes[i];
      if (depth == 0) {
        if (b == ' ' || b == '\n' || b == '\r' || b == '\t') {
          continue;
        }
        if (b == 'n' && i + 3 < bytes.length && bytes[i + 1] == 'u' && bytes[i + 2] == 'l' && bytes[i + 3] == 'l') {
          objects.add("{}"); // Go decodes null into an empty request
          i += 3;
          continue;
        }
        if (b != '{') {
          String kind = b == '[' ? "array" : b == '"' ? "string" : b == 't' || b == 'f' ? "bool"
              : b == '-' || (b >= '0' && b <= '9') ? "number" : null;
          // Go's decoder reads any JSON value, then fails to put a non-object into the request's fields.
          error = kind != null ? "json: cannot unmarshal " + kind + " into Go value of type map[string]json.RawMessage"
              : "invalid character '" + (char) (b & 0xff) + "' looking for beginning of value";
          return objects;
        }
        start = i;
        depth = 1;
        continue;
      }
      if (inString) {
        if (escaped) {
          escaped = false;
        } else if (b == '\\') {
          escaped = true;
        } else if (b == '"') {
          inString = false;
        }
      } else if (b == '"') {
        inString = true;
      } else if (b == '{' || b == '[') {
        depth++;
      } else if (b == '}' || b == ']') {
        depth--;
        if (depth == 0) {
          current.write(bytes, start, i + 1 - start);
          objects.add(current.toString(StandardCharsets.UTF_8));
          current.reset();
          start = -1;
        }
      }
    }
    if (depth > 0 && start >= 0) {
      current.write(bytes, start, bytes.length - start);
      if (current.size() > maxObjectBytes) {
        error = "request is larger than " + maxObjectBytes + " bytes";
        current.reset();
      }
    }
    return objects;
  }

  /** Why the stream cannot be read further, or null. */
  String error() {
    return error;
  }

  /** The text of the object read so far (when {@link #partial()}). */
  String pending() {
    return current.toString(StandardCharsets.UTF_8);
  }

  /** True when the stream ended in the middle of an object. */
  boolean partial() {
    return depth > 0;
  }
}
