// File: strong_bool.h
//
// StrongBool<Tag>: a boolean that does not convert implicitly to or from other booleans, so that
// call sites spell out which flag they pass (after Seastar's bool_class).
//
// Example:
//   using OmitEmptyValues = StrongBool<struct OmitEmptyValuesTag>;
//   Render(record, OmitEmptyValues::yes);
//   EXPECT_TRUE(static_cast<bool>(OmitEmptyValues::yes));
#pragma once

namespace meshlog {

template <typename Tag>
class StrongBool {
 public:
  static const StrongBool yes;
  static const StrongBool no;

  constexpr StrongBool() noexcept = default;
  constexpr explicit StrongBool(bool value) noexcept : value_(value) {}
  constexpr explicit operator bool() const noexcept { return value_; }
  constexpr bool operator==(const StrongBool&) const noexcept = default;
  constexpr StrongBool operator!() const noexcept { return StrongBool(!value_); }

 private:
  bool value_ = false;
};

template <typename Tag>
inline constexpr StrongBool<Tag> StrongBool<Tag>::yes{true};
template <typename Tag>
inline constexpr StrongBool<Tag> StrongBool<Tag>::no{false};

}  // namespace meshlog
