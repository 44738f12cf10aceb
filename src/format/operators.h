// File: operators.h
//
// Envoy command operators (formatter.md section 4), compiled once from (COMMAND, subcommand,
// length) into an Op and evaluated per record into a Value. Evaluation is a switch over the
// op code (one jump per operator, no virtual call, no allocation: computed strings are written
// into a caller-provided scratch buffer that is reused between records).
//
// Example:
//   std::string error;
//   auto op = ParseOperator("REQ", ":path", std::nullopt, &error);
//   std::string scratch;
//   Value v = Evaluate(*op, info, scratch);   // v.kind == ValueKind::kString, v.str == "/"
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/date_format.h"
#include "format/stream_info.h"

namespace meshlog::format {

enum class ValueKind : uint8_t { kMissing, kString, kUint, kInt, kDouble };

// One operator result: 16 bytes, trivially copyable, so it is returned in two registers (a
// larger struct comes back through memory and costs a store-forwarding stall per operator).
// Strings view either StreamInfo data, the Op's own storage, or scratch.
struct Value {
  union {
    const char* ptr = nullptr;  // kString
    uint64_t u;                 // kUint
    int64_t i;                  // kInt
    double d;                   // kDouble
  };
  uint32_t len = 0;  // kString
  ValueKind kind = ValueKind::kMissing;
  uint8_t flags = 0;

  // The bytes come from traffic (headers, paths, SNI, ...): plain output neutralises C0 bytes.
  static constexpr uint8_t kFromTraffic = 1;
  // Typed JSON renders this value as null although its text form is a string (e.g. the port of a
  // pipe address: "" in text, null in JSON).
  static constexpr uint8_t kNullInJson = 2;

  std::string_view str() const { return {ptr, len}; }
  bool from_traffic() const { return (flags & kFromTraffic) != 0; }
  bool null_in_json() const { return (flags & kNullInJson) != 0; }

  static Value Missing() { return {}; }
  static Value String(std::string_view s, bool traffic = false) {
    Value v;
    v.kind = ValueKind::kString;
    v.ptr = s.data();
    v.len = static_cast<uint32_t>(s.size() > UINT32_MAX ? UINT32_MAX : s.size());
    v.flags = traffic ? kFromTraffic : 0;
    return v;
  }
  static Value Uint(uint64_t x) {
    Value v;
    v.kind = ValueKind::kUint;
    v.u = x;
    return v;
  }
  static Value Int(int64_t x) {
    Value v;
    v.kind = ValueKind::kInt;
    v.i = x;
    return v;
  }
};
static_assert(sizeof(Value) == 16);

enum class OpCode : uint16_t;

struct Op {
  OpCode code{};
  std::string name;                 // the command as written (for diagnostics)
  std::optional<size_t> max_length;  // :Z
  std::string s1;                   // header name / query key / constant value ...
  std::string s2;                   // alternative header name ...
  uint8_t a = 0;                    // op-specific small parameters
  uint8_t b = 0;
  uint8_t c = 0;
  bool has_const = false;           // s1 is a constant value (HOSTNAME, ENVIRONMENT)
  std::shared_ptr<const DateFormatter> date;  // time operators
  std::shared_ptr<const std::vector<Op>> children;  // COALESCE operands
};

// Parses one command. Returns std::nullopt and Envoy's message in *error when rejected
// (unknown command, syntax flags, operator-specific checks).
std::optional<Op> ParseOperator(std::string_view command, std::string_view subcommand,
                                std::optional<size_t> max_length, std::string* error);

// Evaluates `op` (including :Z truncation of string results).
Value Evaluate(const Op& op, const StreamInfo& info, std::string& scratch);

}  // namespace meshlog::format
