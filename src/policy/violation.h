// File: violation.h
//
// Violation: one validation finding in Kuma's shape {field, message}, and FieldPath, the path
// arithmetic of Kuma's validators.PathBuilder (pkg/core/validators/types.go), so nested validators
// compose field names exactly as Kuma does.
//
// Example:
//   FieldPath p = FieldPath::Root().Field("spec").Field("to").Index(0);
//   EXPECT_EQ(p.str(), "spec.to[0]");
//   EXPECT_EQ(p.Concat("backends[1].file").str(), "spec.to[0].backends[1].file");
//   EXPECT_EQ(p.Concat("").str(), "spec.to[0]");     // empty field => the path itself
//   EXPECT_EQ(p.Concat("[2]").str(), "spec.to[0][2]");
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace meshlog::policy {

struct Violation {
  std::string field;
  std::string message;
  bool operator==(const Violation&) const = default;
};

class FieldPath {
 public:
  static FieldPath Root() { return FieldPath(); }
  static FieldPath RootedAt(std::string_view name) {
    FieldPath p;
    p.path_ = std::string(name);
    return p;
  }
  // `.name`, or `name` at the root.
  FieldPath Field(std::string_view name) const {
    FieldPath p = *this;
    if (!p.path_.empty()) p.path_ += '.';
    p.path_ += name;
    return p;
  }
  FieldPath Index(size_t i) const {
    FieldPath p = *this;
    p.path_ += '[';
    p.path_ += std::to_string(i);
    p.path_ += ']';
    return p;
  }
  // `["key"]` with Go %q quoting of the key.
  FieldPath Key(std::string_view key) const;
  // Kuma's PathBuilder.concat with RootedAt(field): "" => this path; a field starting with '['
  // is appended as is; anything else after a '.'.
  FieldPath Concat(std::string_view field) const {
    FieldPath p = *this;
    if (field.empty()) return p;
    if (p.path_.empty()) {
      p.path_ = std::string(field);
      return p;
    }
    if (field.front() != '[') p.path_ += '.';
    p.path_ += field;
    return p;
  }
  const std::string& str() const { return path_; }
  bool empty() const { return path_.empty(); }

 private:
  std::string path_;
};

// Go's strconv.Quote / fmt %q for a string (printable runes kept, others escaped).
std::string GoQuote(std::string_view s);

// A list of violations with Kuma's ValidationError helpers.
class ValidationErrors {
 public:
  void AddViolation(std::string field, std::string message) {
    violations_.push_back({std::move(field), std::move(message)});
  }
  void AddViolationAt(const FieldPath& path, std::string message) { AddViolation(path.str(), std::move(message)); }
  // Re-roots every violation of `other` under `path` (Kuma's AddErrorAt).
  void AddErrorAt(const FieldPath& path, const ValidationErrors& other) {
    for (const Violation& v : other.violations_) AddViolation(path.Concat(v.field).str(), v.message);
  }
  void Add(const ValidationErrors& other) { AddErrorAt(FieldPath::Root(), other); }

  const std::vector<Violation>& violations() const { return violations_; }
  std::vector<Violation>& mutable_violations() { return violations_; }
  bool empty() const { return violations_.empty(); }

 private:
  std::vector<Violation> violations_;
};

}  // namespace meshlog::policy
