// File: value.h
//
// Value: a small JSON-like tree (null, bool, int, double, string, array, object with keys kept in
// document order). The policy library uses it for the parts of a resource whose shape is free-form
// (the MeshAccessLog OpenTelemetry `body`), and the decoder uses it as the intermediate form between
// YAML text and the typed model. It deliberately does not depend on src/format; the formatter
// converts a Value into its own OtelValue.
//
// Every Value remembers where it came from (1-based line/column, 0 when built in code).
//
// Example:
//   Value body = Value::MakeObject({{"stringValue", Value::String("%KUMA_MESH%")}});
//   ASSERT_TRUE(body.is_object());
//   EXPECT_EQ(body.Find("stringValue")->string_value(), "%KUMA_MESH%");
//   EXPECT_EQ(body.ToCanonicalJson(), R"({"stringValue":"%KUMA_MESH%"})");
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshlog::policy {

// A position in a source document, 1-based. line == 0 means "unknown".
struct Mark {
  int line = 0;
  int column = 0;
  bool operator==(const Mark&) const = default;
};

class Value {
 public:
  enum class Kind : uint8_t { kNull, kBool, kInt, kDouble, kString, kArray, kObject };
  struct Member;  // {key, value}; defined below
  using Array = std::vector<Value>;
  using Object = std::vector<Member>;

  // Special members are defined out of line (Member is incomplete here).
  Value();  // null
  ~Value();
  Value(const Value&);
  Value(Value&&) noexcept;
  Value& operator=(const Value&);
  Value& operator=(Value&&) noexcept;

  static Value Null() { return Value(); }
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Double(double d);
  static Value String(std::string s);
  static Value MakeArray(Array items);
  static Value MakeObject(Object members);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_double() const { return kind_ == Kind::kDouble; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kDouble; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  // Accessors; calling one for another kind returns the zero value (never UB).
  bool bool_value() const { return kind_ == Kind::kBool && bool_; }
  int64_t int_value() const { return kind_ == Kind::kInt ? int_ : 0; }
  double double_value() const;  // kInt is widened
  const std::string& string_value() const;  // "" unless kString
  const Array& array_items() const;         // empty unless kArray
  const Object& object_members() const;     // empty unless kObject
  Array& mutable_array_items() { return array_; }
  Object& mutable_object_members() { return object_; }

  // Object lookup (last member with that key wins, like Go/JSON decoders). nullptr if absent.
  const Value* Find(std::string_view key) const;

  // The JSON type name Kubernetes' OpenAPI validator uses for this value after Kuma's YAML->JSON
  // conversion: "null", "boolean", "number" (every number, Go decodes them as float64), "string",
  // "array", "object".
  std::string_view JsonTypeName() const;

  // Compact JSON as Go's encoding/json would print the value after a YAML->JSON round trip:
  // object keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped as \u00XX / \u20XX, integers
  // without exponent. Invalid UTF-8 is replaced by U+FFFD (as Go does).
  std::string ToCanonicalJson() const;

  Mark mark;  // where the value starts in its document

  bool operator==(const Value& other) const;  // structural equality, marks ignored

 private:
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  Array array_;
  Object object_;
};

struct Value::Member {
  std::string key;
  Value value;
  bool operator==(const Member&) const = default;
};

}  // namespace meshlog::policy
