package io.vetcd.api.http;

import com.google.protobuf.Descriptors;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vetcd.errors.EtcdException;
import io.vetcd.errors.GrpcCode;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JSON of etcd 3.4's grpc-gateway: proto field names, int64 as strings, bytes as base64, enums
 * by name, zero values left out; strings escaped as Go's encoding/json escapes them. Requests accept
 * proto or lowerCamelCase field names, enums by name or number, and ignore unknown fields.
 */
final class GatewayJson {
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

  private GatewayJson() {}

  static String print(MessageOrBuilder message) {
    try {
      return goEscapes(PRINTER.print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName(), e);
    }
  }

  /** One message of a response stream: {@code {"result":{...}}}. */
  static String result(MessageOrBuilder message) {
    return "{\"result\":" + print(message) + "}";
  }

  /** Parses a request; a malformed one is an InvalidArgument error, as the gateway answers. */
  static <B extends Message.Builder> B parse(String json, B builder) {
    GoJsonSyntax syntax = GoJsonSyntax.check(json);
    if (syntax.error != null) {
      throw new EtcdException(GrpcCode.INVALID_ARGUMENT, syntax.error);
    }
    if (syntax.kind == GoJsonSyntax.Kind.NONE || syntax.kind == GoJsonSyntax.Kind.NULL) {
      return builder; // no body, or null: an empty request
    }
    if (syntax.notAnObject() != null) {
      throw new EtcdException(GrpcCode.INVALID_ARGUMENT, syntax.notAnObject());
    }
    json = syntax.firstValue;
    JsonObject tree = new JsonObject(json); // parsed once, for the checks and the rewrites below
    String typeError = goTypeError(tree, builder.getDescriptorForType());
    if (typeError != null) {
      throw new EtcdException(GrpcCode.INVALID_ARGUMENT, typeError);
    }
    if (json.contains("\\n") || json.contains("\\r")) {
      // Go's base64 skips line breaks, JsonFormat's does not: take them out of bytes fields
      stripLineBreaksFromBytes(tree, builder.getDescriptorForType());
      json = tree.encode();
    }
    try {
      try {
        PARSER.merge(json, builder);
      } catch (InvalidProtocolBufferException e) {
        String problem = String.valueOf(e.getMessage());
        if (!problem.startsWith("Cannot find field") && !problem.contains("belonging to the same oneof")) {
          throw e;
        }
        // Unknown fields are ignored, but (unlike JsonFormat's lenient mode) unknown enum names are not;
        // and where a oneof has several members set, Go keeps one of them (which one is up to its map
        // order): the first is kept here.
        dropUnknownFields(tree, builder.getDescriptorForType());
        builder.clear();
        PARSER.merge(tree.encode(), builder);
      }
      return builder;
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new EtcdException(GrpcCode.INVALID_ARGUMENT, parseMessage(e));
    }
  }

  /**
   * The first field whose JSON type its proto type does not take, in Go's words ({@code json: cannot
   * unmarshal number into Go value of type []uint8}), or null. Fields are checked in proto order, as
   * etcd's gateway decodes them; unknown fields and nulls are skipped.
   */
  static String goTypeError(JsonObject object, Descriptors.Descriptor type) {
    for (Descriptors.FieldDescriptor field : type.getFields()) {
      Object value = object.containsKey(field.getName()) ? object.getValue(field.getName())
          : object.getValue(field.getJsonName());
      if (value == null) {
        continue;
      }
      String error;
      if (field.isRepeated()) {
        if (!(value instanceof JsonArray array)) {
          return cannot(value, "[]json.RawMessage");
        }
        error = null;
        for (Object item : array) {
          error = item == null ? null : goTypeError(item, field);
          if (error != null) {
            break;
          }
        }
      } else {
        error = goTypeError(value, field);
      }
      if (error != null) {
        return error;
      }
    }
    return null;
  }

  private static String goTypeError(Object value, Descriptors.FieldDescriptor field) {
    switch (field.getType()) {
      case MESSAGE -> {
        return value instanceof JsonObject o ? goTypeError(o, field.getMessageType())
            : cannot(value, "map[string]json.RawMessage");
      }
      case BYTES -> {
        if (value instanceof JsonArray array) { // Go takes []byte as an array of numbers too
          for (Object item : array) {
            if (!(item instanceof Number n)) {
              return cannot(item, "uint8");
            }
            String error = integral(String.valueOf(n), "uint8");
            if (error != null) {
              return error;
            }
          }
          return null;
        }
        return value instanceof String text ? goBase64Error(text) : cannot(value, "[]uint8");
      }
      case ENUM -> {
        String full = field.getEnumType().getFullName();
        int dot = full.indexOf('.');
        return value instanceof String || value instanceof Number ? null
            : cannot(value, full.substring(0, dot + 1) + full.substring(dot + 1).replace('.', '_'));
      }
      case STRING -> {
        return value instanceof String ? null : cannot(value, "string");
      }
      case BOOL -> {
        return value instanceof Boolean ? null : cannot(value, "bool");
      }
      case INT64, SINT64, SFIXED64, UINT64, FIXED64, INT32, SINT32, SFIXED32, UINT32, FIXED32 -> {
        String goType = switch (field.getType()) {
          case INT64, SINT64, SFIXED64 -> "int64";
          case UINT64, FIXED64 -> "uint64";
          case INT32, SINT32, SFIXED32 -> "int32";
          default -> "uint32";
        };
        if (value instanceof String text) {
          // a quoted integer: Go decodes what is inside the quotes as JSON
          GoJsonSyntax inner = GoJsonSyntax.check(text);
          if (inner.error != null) {
            return inner.error;
          }
          if (inner.kind == GoJsonSyntax.Kind.NONE) {
            return "unexpected end of JSON input";
          }
          return inner.kind == GoJsonSyntax.Kind.NUMBER ? integral(inner.firstValue, goType)
              : cannotKind(inner.kind.name().toLowerCase(java.util.Locale.ROOT), goType);
        }
        return value instanceof Number n ? integral(String.valueOf(n), goType) : cannot(value, goType);
      }
      default -> {
        return null; // enums (names or numbers), floats: left to the parser
      }
    }
  }

  private static String integral(String number, String goType) {
    boolean unsigned = goType.startsWith("u");
    try {
      java.math.BigInteger v = new java.math.BigInteger(number);
      int bits = goType.endsWith("64") ? 64 : goType.endsWith("8") ? 8 : 32;
      java.math.BigInteger min = unsigned ? java.math.BigInteger.ZERO : java.math.BigInteger.ONE.shiftLeft(bits - 1).negate();
      java.math.BigInteger max = unsigned ? java.math.BigInteger.ONE.shiftLeft(bits).subtract(java.math.BigInteger.ONE)
          : java.math.BigInteger.ONE.shiftLeft(bits - 1).subtract(java.math.BigInteger.ONE);
      if (v.compareTo(min) >= 0 && v.compareTo(max) <= 0) {
        return null;
      }
    } catch (NumberFormatException e) {
      // a fraction or an exponent
    }
    return "json: cannot unmarshal number " + number + " into Go value of type " + goType;
  }

  /**
   * Go's error for a bytes field that its standard base64 decoder rejects ({@code illegal base64 data
   * at input byte 3}), or null. Stricter than JsonFormat, which also takes the URL-safe alphabet and
   * missing padding; etcd's gateway takes neither. The offset is where Go's decoder gives up: the
   * first byte outside the alphabet, a misplaced or missing '=', or the first byte after the padding.
   */
  static String goBase64Error(String text) {
    int offset = goBase64ErrorOffset(text);
    return offset < 0 ? null : "illegal base64 data at input byte " + offset;
  }

  static int goBase64ErrorOffset(String src) {
    int length = src.length();
    int si = 0;
    while (si < length) {
      int j = 0;
      while (j < 4) {
        if (si == length) {
          return j == 0 ? -1 : si - j; // a partial quantum: the standard encoding wants padding
        }
        char in = src.charAt(si++);
        if (isStdBase64(in)) {
          j++;
          continue;
        }
        if (in == '\n' || in == '\r') {
          continue; // Go skips line breaks
        }
        if (in != '=') {
          return si - 1;
        }
        if (j < 2) {
          return si - 1; // padding too early
        }
        if (j == 2) { // "==" expected: the first is read
          while (si < length && (src.charAt(si) == '\n' || src.charAt(si) == '\r')) {
            si++;
          }
          if (si == length) {
            return length; // not enough padding
          }
          if (src.charAt(si) != '=') {
            return si - 1;
          }
          si++;
        }
        while (si < length && (src.charAt(si) == '\n' || src.charAt(si) == '\r')) {
          si++;
        }
        return si < length ? si : -1; // nothing may follow the padding
      }
    }
    return -1;
  }

  private static boolean isStdBase64(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  }

  private static String cannot(Object value, String goType) {
    String what = value instanceof JsonObject ? "object" : value instanceof JsonArray ? "array"
        : value instanceof String ? "string" : value instanceof Boolean ? "bool" : "number";
    return cannotKind(what, goType);
  }

  private static String cannotKind(String what, String goType) {
    return "json: cannot unmarshal " + what + " into Go value of type " + goType;
  }

  private static void stripLineBreaksFromBytes(JsonObject object, Descriptors.Descriptor type) {
    for (Descriptors.FieldDescriptor field : type.getFields()) {
      String name = object.containsKey(field.getName()) ? field.getName() : field.getJsonName();
      Object value = object.getValue(name);
      if (value == null) {
        continue;
      }
      if (field.getType() == Descriptors.FieldDescriptor.Type.BYTES && value instanceof String text) {
        object.put(name, text.replace("\r", "").replace("\n", ""));
      } else if (field.getType() == Descriptors.FieldDescriptor.Type.BYTES && value instanceof JsonArray array
          && field.isRepeated()) {
        for (int i = 0; i < array.size(); i++) {
          if (array.getValue(i) instanceof String text) {
            array.set(i, text.replace("\r", "").replace("\n", ""));
          }
        }
      } else if (field.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE && !field.isMapField()) {
        if (value instanceof JsonObject nested) {
          stripLineBreaksFromBytes(nested, field.getMessageType());
        } else if (value instanceof JsonArray array) {
          for (Object item : array) {
            if (item instanceof JsonObject nested) {
              stripLineBreaksFromBytes(nested, field.getMessageType());
            }
          }
        }
      }
    }
  }

  /** Drops unknown fields and all but the first member of each oneof, at every depth. */
  private static void dropUnknownFields(Object element, Descriptors.Descriptor type) {
    if (!(element instanceof JsonObject object)) {
      return;
    }
    java.util.Set<Descriptors.OneofDescriptor> oneofsSeen = new java.util.HashSet<>();
    for (String name : List.copyOf(object.fieldNames())) {
      Descriptors.FieldDescriptor field = type.findFieldByName(name);
      if (field == null) {
        field = type.getFields().stream().filter(f -> f.getJsonName().equals(name)).findFirst().orElse(null);
      }
      if (field == null) {
        object.remove(name);
      } else if (field.getRealContainingOneof() != null && object.getValue(name) != null
          && !oneofsSeen.add(field.getRealContainingOneof())) {
        object.remove(name);
      } else if (field.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE && !field.isMapField()) {
        Object value = object.getValue(name);
        Descriptors.Descriptor fieldType = field.getMessageType();
        if (value instanceof JsonArray array) {
          array.forEach(item -> dropUnknownFields(item, fieldType));
        } else {
          dropUnknownFields(value, fieldType);
        }
      }
    }
  }

  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  private static final Pattern BAD_ENUM = Pattern.compile("Invalid enum value: (.*) for enum type: (\\S+)");

  /** A parse failure's message, as Go's words where they are known, without Java class names. */
  private static String parseMessage(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.io.EOFException || String.valueOf(t.getMessage()).contains("End of input")) {
        return "unexpected EOF";
      }
      if (t.getClass().getSimpleName().equals("DecodingException")) {
        return "illegal base64 data: " + t.getMessage();
      }
    }
    String message = e.getMessage() == null ? "malformed JSON request" : e.getMessage();
    Matcher badEnum = BAD_ENUM.matcher(message);
    if (badEnum.matches()) {
      // Go names a nested enum etcdserverpb.RangeRequest_SortOrder.
      String type = badEnum.group(2);
      int dot = type.indexOf('.');
      return "unknown value \"" + badEnum.group(1) + "\" for enum " + type.substring(0, dot + 1)
          + type.substring(dot + 1).replace('.', '_');
    }
    return message.replaceFirst("^([a-zA-Z_$][\\w$]*\\.)+[\\w$]+: ", "");
  }

  /** The body of a failed unary call: {@code {"error":..,"message":..,"code":N}}. */
  static String errorBody(EtcdException e) {
    return "{\"error\":" + quote(e.getMessage()) + ",\"message\":" + quote(e.getMessage()) + ",\"code\":"
        + e.code().number + "}";
  }

  /** A stream's failure, in the stream: {@code {"error":{"grpc_code":N,"http_code":N,...}}}. */
  static String streamError(EtcdException e) {
    int status = httpStatus(e.code());
    return "{\"error\":{\"grpc_code\":" + e.code().number + ",\"http_code\":" + status + ",\"message\":"
        + quote(e.getMessage()) + ",\"http_status\":" + quote(statusText(status)) + "}}";
  }

  /** grpc-gateway v1's HTTPStatusFromCode. */
  static int httpStatus(GrpcCode code) {
    return switch (code) {
      case OK -> 200;
      case CANCELLED -> 408;
      case UNKNOWN, INTERNAL, DATA_LOSS -> 500;
      case INVALID_ARGUMENT, OUT_OF_RANGE -> 400;
      case DEADLINE_EXCEEDED -> 504;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, ABORTED -> 409;
      case PERMISSION_DENIED -> 403;
      case UNAUTHENTICATED -> 401;
      case RESOURCE_EXHAUSTED -> 429;
      case FAILED_PRECONDITION -> 412;
      case UNIMPLEMENTED -> 501;
      case UNAVAILABLE -> 503;
    };
  }

  /** Go's http.StatusText for the statuses above. */
  static String statusText(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 408 -> "Request Timeout";
      case 409 -> "Conflict";
      case 412 -> "Precondition Failed";
      case 429 -> "Too Many Requests";
      case 501 -> "Not Implemented";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      default -> "Internal Server Error";
    };
  }

  /** A JSON string as Go's encoding/json writes it (HTML-safe: {@code < > &} escaped). */
  static String quote(String s) {
    StringBuilder out = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '<', '>', '&', '\u2028', '\u2029' -> unicode(out, c);
        default -> {
          if (c < 0x20) {
            unicode(out, c);
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }

  /**
   * JsonFormat escapes {@code =} and {@code '} (Gson's HTML-safe set) and writes {@code \b}, {@code \f};
   * Go writes the first two as they are and the last two as {@code \u0008}, {@code \u000c}.
   */
  static String goEscapes(String json) {
    if (json.indexOf('\\') < 0) {
      return json;
    }
    StringBuilder out = new StringBuilder(json.length());
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (c != '\\' || i + 1 >= json.length()) {
        out.append(c);
        continue;
      }
      char next = json.charAt(i + 1);
      if (next == 'u' && i + 5 < json.length()) {
        String hex = json.substring(i + 2, i + 6);
        if (hex.equalsIgnoreCase("003d")) {
          out.append('=');
        } else if (hex.equalsIgnoreCase("0027")) {
          out.append('\'');
        } else {
          out.append(json, i, i + 6);
        }
        i += 5;
      } else if (next == 'b') {
        out.append("\\u0008");
        i++;
      } else if (next == 'f') {
        out.append("\\u000c");
        i++;
      } else {
        out.append(c).append(next);
        i++;
      }
    }
    return out.toString();
  }

  private static void unicode(StringBuilder out, char c) {
    out.append(String.format("\\u%04x", (int) c));
  }
}
