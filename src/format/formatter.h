// File: formatter.h
//
// The public API of the access-log formatter: format strings are parsed ONCE into an immutable,
// thread-safe Formatter; rendering a record appends bytes to a caller-owned buffer (reuse it: no
// heap allocation per record in steady state).
//
// Kuma placeholders (%KUMA_MESH%, %KUMA_SOURCE_SERVICE%, ...) are not operators: like Kuma's control
// plane, the caller binds them with BindKumaPlaceholders() (plain string replacement, policy.md
// 4.1) before compiling the formatter for a listener.
//
// Example:
//   KumaValues kuma{.mesh = "default", .source_service = "web", ...};
//   std::string fmt = BindKumaPlaceholders("[%START_TIME%] %KUMA_MESH%\n", kuma);
//   auto compiled = CompilePlain(fmt, OmitEmptyValues::no);
//   ASSERT_TRUE(compiled.ok());
//   std::string out;
//   compiled.value()->format(info, out);   // "[2018-04-03T23:06:09.123Z] default\n"
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/strong_bool.h"
#include "format/stream_info.h"

namespace meshlog::format {

using OmitEmptyValues = StrongBool<struct OmitEmptyValuesTag>;

// Values of the %KUMA_*% placeholders for one listener (policy.md 4.1 / 4.2).
struct KumaValues {
  std::string mesh;                 // %KUMA_MESH%
  std::string source_service;       // %KUMA_SOURCE_SERVICE%
  std::string destination_service;  // %KUMA_DESTINATION_SERVICE%
  std::string source_ip;            // %KUMA_SOURCE_ADDRESS_WITHOUT_PORT%; %KUMA_SOURCE_ADDRESS% = ip:0
  std::string direction;            // %KUMA_TRAFFIC_DIRECTION%: INBOUND | OUTBOUND | UNSPECIFIED
  std::string zone;                 // %KUMA_ZONE% (may be empty)
  std::string workload;             // %KUMA_WORKLOAD% (may be empty)
};

// Replaces every %KUMA_*% placeholder with its value, in Kuma's order (policy.md 4.1). Other
// operators are left untouched.
std::string BindKumaPlaceholders(std::string_view format, const KumaValues& values);

// Kuma's default formats (seed document), WITHOUT the trailing newline.
std::string_view DefaultHttpFormat();
std::string_view DefaultTcpFormat();

// A compiled format. Immutable and safe to share between threads.
class Formatter {
 public:
  virtual ~Formatter() = default;
  // Appends one rendered record to `out` (does not clear it).
  virtual void format(const StreamInfo& info, std::string& out) const = 0;
};
using FormatterPtr = std::shared_ptr<const Formatter>;

// Result of compiling: the formatter, or Envoy's error message for the rejected format.
template <typename T>
class Compiled {
 public:
  Compiled(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  static Compiled Error(std::string message) { return Compiled(ErrorTag{std::move(message)}); }
  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T& value() { return std::get<T>(v_); }
  const std::string& error() const { return std::get<ErrorTag>(v_).message; }

 private:
  struct ErrorTag {
    std::string message;
  };
  explicit Compiled(ErrorTag e) : v_(std::move(e)) {}
  std::variant<T, ErrorTag> v_;
};

// Plain (text) format: output is exactly the format with operators substituted (callers that
// write File/TCP records pass the format with Kuma's trailing "\n" already appended). Missing
// values print "-" (nothing with omit_empty_values). Values taken from traffic never carry C0
// control bytes other than TAB: they are written as \xHH.
Compiled<FormatterPtr> CompilePlain(std::string_view format, OmitEmptyValues omit_empty_values);

// JSON format from Kuma's ordered key/value list: Envoy's typed JSON (keys sorted bytewise, compact,
// single-operator values typed), always valid JSON, followed by exactly one "\n". Like Kuma, bind
// the %KUMA_*% placeholders in the VALUES (not the keys) with BindKumaPlaceholders first.
// Duplicate keys: the last one wins (Kuma builds a protobuf Struct from the list).
using JsonFields = std::vector<std::pair<std::string, std::string>>;
Compiled<FormatterPtr> CompileJson(const JsonFields& fields, OmitEmptyValues omit_empty_values);

// ---- Extensions (meshlog) --------------------------------------------------------------------

// Parses `format` as CompilePlain would, without keeping the result: std::nullopt when the format
// is valid, else Envoy's error message. For validators that only need the verdict.
//   ValidateFormat("%REQ(:path)%")  -> std::nullopt
//   ValidateFormat("%protocol%")    -> "Incorrect configuration: %protocol%. Couldn't find valid command at position 0"
std::optional<std::string> ValidateFormat(std::string_view format);

// A nested JSON template (Envoy's json_format Struct, which may nest objects and lists). String
// leaves containing '%' are format strings; other leaves are constants, pre-serialised. Kuma only
// produces flat string maps (CompileJson), but the writer handles any nesting:
//   JsonTemplate t = JsonTemplate::Object({{"req", JsonTemplate::Object({{"path", JsonTemplate::String("%REQ(:path)%")}})},
//                                          {"n", JsonTemplate::Number(1)}});
//   CompileJsonTemplate(t, OmitEmptyValues::no)  // renders {"n":1,"req":{"path":"/"}}\n
struct JsonTemplate {
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kObject, kArray };
  // User-provided (not defaulted in-class): clang 14 + libstdc++ cannot otherwise instantiate the
  // vector<pair<string, JsonTemplate>> default constructor while the class is incomplete.
  JsonTemplate() {}  // NOLINT(modernize-use-equals-default)
  Kind kind = Kind::kNull;
  bool bool_value = false;
  double number_value = 0;
  std::string string_value;
  std::vector<std::pair<std::string, JsonTemplate>> object_value;  // duplicate keys: last wins
  std::vector<JsonTemplate> array_value;

  static JsonTemplate String(std::string s) {
    JsonTemplate t;
    t.kind = Kind::kString;
    t.string_value = std::move(s);
    return t;
  }
  static JsonTemplate Number(double d) {
    JsonTemplate t;
    t.kind = Kind::kNumber;
    t.number_value = d;
    return t;
  }
  static JsonTemplate Bool(bool b) {
    JsonTemplate t;
    t.kind = Kind::kBool;
    t.bool_value = b;
    return t;
  }
  static JsonTemplate Object(std::vector<std::pair<std::string, JsonTemplate>> fields) {
    JsonTemplate t;
    t.kind = Kind::kObject;
    t.object_value = std::move(fields);
    return t;
  }
  static JsonTemplate Array(std::vector<JsonTemplate> values) {
    JsonTemplate t;
    t.kind = Kind::kArray;
    t.array_value = std::move(values);
    return t;
  }
};

// The root must be an object. Same output rules as CompileJson (newest omit_empty_values: keys
// whose single-operator value is missing are dropped, nested objects left empty are dropped,
// arrays are kept without their missing elements, the root is always written).
Compiled<FormatterPtr> CompileJsonTemplate(const JsonTemplate& root, OmitEmptyValues omit_empty_values);

}  // namespace meshlog::format
