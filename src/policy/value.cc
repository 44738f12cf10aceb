#include "policy/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace meshlog::policy {

Value::Value() = default;
Value::~Value() = default;
Value::Value(const Value&) = default;
Value::Value(Value&&) noexcept = default;
Value& Value::operator=(const Value&) = default;
Value& Value::operator=(Value&&) noexcept = default;

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.bool_ = b;
  return v;
}

Value Value::Int(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.int_ = i;
  return v;
}

Value Value::Double(double d) {
  Value v;
  v.kind_ = Kind::kDouble;
  v.double_ = d;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.string_ = std::move(s);
  return v;
}

Value Value::MakeArray(Array items) {
  Value v;
  v.kind_ = Kind::kArray;
  v.array_ = std::move(items);
  return v;
}

Value Value::MakeObject(Object members) {
  Value v;
  v.kind_ = Kind::kObject;
  v.object_ = std::move(members);
  return v;
}

double Value::double_value() const {
  if (kind_ == Kind::kDouble) return double_;
  if (kind_ == Kind::kInt) return static_cast<double>(int_);
  return 0;
}

const std::string& Value::string_value() const {
  static const std::string kEmpty;
  return kind_ == Kind::kString ? string_ : kEmpty;
}

const Value::Array& Value::array_items() const {
  static const Array kEmpty;
  return kind_ == Kind::kArray ? array_ : kEmpty;
}

const Value::Object& Value::object_members() const {
  static const Object kEmpty;
  return kind_ == Kind::kObject ? object_ : kEmpty;
}

const Value* Value::Find(std::string_view key) const {
  if (kind_ != Kind::kObject) return nullptr;
  for (auto it = object_.rbegin(); it != object_.rend(); ++it) {
    if (it->key == key) return &it->value;
  }
  return nullptr;
}

std::string_view Value::JsonTypeName() const {
  switch (kind_) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "boolean";
    case Kind::kInt:
    case Kind::kDouble: return "number";
    case Kind::kString: return "string";
    case Kind::kArray: return "array";
    case Kind::kObject: return "object";
  }
  return "null";
}

bool Value::operator==(const Value& other) const {
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::kNull: return true;
    case Kind::kBool: return bool_ == other.bool_;
    case Kind::kInt: return int_ == other.int_;
    case Kind::kDouble: return double_ == other.double_ || (std::isnan(double_) && std::isnan(other.double_));
    case Kind::kString: return string_ == other.string_;
    case Kind::kArray: return array_ == other.array_;
    case Kind::kObject: return object_ == other.object_;
  }
  return false;
}

namespace {

// Decodes one UTF-8 sequence at s[i]; returns the code point (0xFFFD for invalid bytes) and
// advances i by the consumed width (1 for an invalid byte), like Go's utf8.DecodeRuneInString.
uint32_t DecodeRune(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  auto cont = [&](size_t k) { return k < s.size() && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(i + 1)) {
    uint32_t r = ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
    i += 2;
    return r;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && cont(i + 1) && cont(i + 2)) {
    uint32_t r = ((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
                 (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
    if (r >= 0x800 && (r < 0xD800 || r > 0xDFFF)) {
      i += 3;
      return r;
    }
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
    uint32_t r = ((b0 & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
                 ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) | (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
    if (r >= 0x10000 && r <= 0x10FFFF) {
      i += 4;
      return r;
    }
  }
  ++i;
  return 0xFFFD;
}

void AppendUtf8(std::string& out, uint32_t r) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

void AppendJsonString(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    const uint32_t r = DecodeRune(s, i);
    switch (r) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '<':
      case '>':
      case '&':
      case 0x2028:
      case 0x2029:
        out += "\\u";
        out += kHex[(r >> 12) & 0xF];
        out += kHex[(r >> 8) & 0xF];
        out += kHex[(r >> 4) & 0xF];
        out += kHex[r & 0xF];
        break;
      default:
        if (r < 0x20) {
          out += "\\u00";
          out += kHex[r >> 4];
          out += kHex[r & 0xF];
        } else {
          AppendUtf8(out, r);
        }
    }
  }
  out += '"';
}

void AppendNumber(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";  // Go's encoding/json refuses these; null is the closest valid JSON
    return;
  }
  if (d == std::floor(d) && std::fabs(d) < 1e21) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f", d);
    out += buf;
    return;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, res.ptr);
}

void AppendJson(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: out += "null"; break;
    case Value::Kind::kBool: out += v.bool_value() ? "true" : "false"; break;
    case Value::Kind::kInt: out += std::to_string(v.int_value()); break;
    case Value::Kind::kDouble: AppendNumber(out, v.double_value()); break;
    case Value::Kind::kString: AppendJsonString(out, v.string_value()); break;
    case Value::Kind::kArray: {
      out += '[';
      bool first = true;
      for (const Value& item : v.array_items()) {
        if (!first) out += ',';
        first = false;
        AppendJson(out, item);
      }
      out += ']';
      break;
    }
    case Value::Kind::kObject: {
      // Go maps: keys sorted, duplicates collapsed (last wins).
      std::vector<const Value::Member*> members;
      for (const Value::Member& m : v.object_members()) members.push_back(&m);
      std::stable_sort(members.begin(), members.end(),
                       [](const Value::Member* a, const Value::Member* b) { return a->key < b->key; });
      out += '{';
      bool first = true;
      for (size_t i = 0; i < members.size(); ++i) {
        if (i + 1 < members.size() && members[i + 1]->key == members[i]->key) continue;
        if (!first) out += ',';
        first = false;
        AppendJsonString(out, members[i]->key);
        out += ':';
        AppendJson(out, members[i]->value);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string Value::ToCanonicalJson() const {
  std::string out;
  AppendJson(out, *this);
  return out;
}

}  // namespace meshlog::policy
