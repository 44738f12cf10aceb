// File: escape.h
//
// Byte-level writers shared by the Plain and JSON formatters. They are hand-written table scans
// because they run for every value of every log record (the product's hot path): a run of bytes
// that needs no escaping is copied with one append.
//
// Example:
//   std::string out;
//   AppendJsonString(out, "a\"b\n");      // out == R"("a\"b\n")"
//   AppendPlainSafe(out, "x\r\ny", Utf8Check::kNo);  // appends x\x0D\x0Ay
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace meshlog::format {

// Writer: batches the many small appends of one record in a stack buffer and hands them to the
// output string in a few large appends (a std::string append per piece costs a capacity check and
// an out-of-line memcpy call; records are made of dozens of 1-40 byte pieces).
//   std::string out;
//   { Writer w(out); w.Append("a"); w.Put('b'); }   // out == "ab" (flushed by the destructor)
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  ~Writer() { Flush(); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  [[gnu::always_inline]] void Append(const char* p, size_t n) {
    if (n > kCapacity - len_) [[unlikely]] {
      Flush();
      if (n > kCapacity) {
        out_.append(p, n);
        return;
      }
    }
    Copy(buf_ + len_, p, n);
    len_ += n;
  }
  void Append(std::string_view s) { Append(s.data(), s.size()); }
  void Put(char c) {
    if (len_ == kCapacity) Flush();
    buf_[len_++] = c;
  }
  void AppendUint(uint64_t v) { len_ = static_cast<size_t>(std::to_chars(Room(24), buf_ + kCapacity, v).ptr - buf_); }
  void AppendInt(int64_t v) { len_ = static_cast<size_t>(std::to_chars(Room(24), buf_ + kCapacity, v).ptr - buf_); }
  void AppendDouble(double v) {
    len_ = static_cast<size_t>(std::to_chars(Room(32), buf_ + kCapacity, v).ptr - buf_);
  }

  // Logical size of the output (what out.size() will be after flushing) and rollback to a
  // previous size (JSON omit_empty_values drops what it wrote for an omitted key).
  size_t size() const { return out_.size() + len_; }
  void Truncate(size_t size) {
    if (size >= out_.size()) {
      len_ = size - out_.size();
    } else {
      out_.resize(size);
      len_ = 0;
    }
  }

  void Flush() {
    if (len_ != 0) out_.append(buf_, len_);
    len_ = 0;
  }

 private:
  static constexpr size_t kCapacity = 2048;

  char* Room(size_t n) {
    if (n > kCapacity - len_) Flush();
    return buf_ + len_;
  }
  // Short copies inline (two overlapping loads/stores), long ones through memcpy.
  static void Copy(char* dst, const char* src, size_t n) {
    if (n >= 8 && n <= 16) {
      uint64_t a, b;
      std::memcpy(&a, src, 8);
      std::memcpy(&b, src + n - 8, 8);
      std::memcpy(dst, &a, 8);
      std::memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
      uint32_t a, b;
      std::memcpy(&a, src, 4);
      std::memcpy(&b, src + n - 4, 4);
      std::memcpy(dst, &a, 4);
      std::memcpy(dst + n - 4, &b, 4);
    } else if (n < 4) {
      for (size_t i = 0; i < n; ++i) dst[i] = src[i];
    } else {
      std::memcpy(dst, src, n);
    }
  }

  std::string& out_;
  size_t len_ = 0;
  char buf_[kCapacity];
};

// Whether AppendPlainSafe also rewrites bytes that are not valid UTF-8 (OpenTelemetry strings
// must be UTF-8; plain file records keep them as Envoy does).
enum class Utf8Check : bool { kNo, kYes };

// Appends `s`, writing every C0 control byte except TAB (0x00-0x08, 0x0A-0x1F) as "\xHH"
// (upper-case hex), so a value taken from traffic can never start a new log line. With
// Utf8Check::kYes, bytes that are not part of a valid UTF-8 sequence are written as \xHH too.
void AppendPlainSafe(Writer& out, std::string_view s, Utf8Check utf8);
void AppendPlainSafe(std::string& out, std::string_view s, Utf8Check utf8);

// Appends the JSON-escaped bytes of `s` WITHOUT surrounding quotes (formatter.md 5.4): `"` `\`
// and control bytes escaped (\b \t \n \f \r, others \u00xx lower-case), DEL and valid multi-byte
// UTF-8 copied raw, and (meshlog rule) every byte that is not part of a valid UTF-8 sequence
// written as \u00xx, so the output is always valid JSON.
void AppendJsonEscaped(Writer& out, std::string_view s);
void AppendJsonEscaped(std::string& out, std::string_view s);

// Appends `"` + AppendJsonEscaped(s) + `"`.
inline void AppendJsonString(Writer& out, std::string_view s) {
  out.Put('"');
  AppendJsonEscaped(out, s);
  out.Put('"');
}
inline void AppendJsonString(std::string& out, std::string_view s) {
  Writer w(out);
  AppendJsonString(w, s);
}

// Length of the valid UTF-8 sequence starting at s[i] (1-4), or 0 if the bytes there are not a
// valid sequence (stray continuation, overlong, surrogate, > U+10FFFF, truncated).
size_t Utf8SequenceLength(std::string_view s, size_t i);

}  // namespace meshlog::format
