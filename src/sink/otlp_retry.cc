#include "sink/otlp_retry.h"

#include <ctime>
#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace meshlog::sink {

ExportVerdict ClassifyGrpc(int code, bool has_retry_info) {
  switch (code) {
    case 0:  // OK
      return ExportVerdict::kSuccess;
    case 1:   // CANCELLED
    case 4:   // DEADLINE_EXCEEDED
    case 10:  // ABORTED
    case 11:  // OUT_OF_RANGE
    case 14:  // UNAVAILABLE
    case 15:  // DATA_LOSS
      return ExportVerdict::kRetryable;
    case 8:  // RESOURCE_EXHAUSTED: retryable only when the server says recovery is possible
      return has_retry_info ? ExportVerdict::kRetryable : ExportVerdict::kNonRetryable;
    default:
      return ExportVerdict::kNonRetryable;
  }
}

ExportVerdict ClassifyHttp(int status) {
  if (status >= 200 && status < 300) return ExportVerdict::kSuccess;
  switch (status) {
    case 429:
    case 502:
    case 503:
    case 504:
      return ExportVerdict::kRetryable;
    default:
      return ExportVerdict::kNonRetryable;
  }
}

std::optional<std::chrono::milliseconds> RetryDelayFromStatusDetails(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  google::rpc::Status status;
  if (!status.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  for (const auto& any : status.details()) {
    const std::string_view url = any.type_url();
    constexpr std::string_view kSuffix = "/google.rpc.RetryInfo";
    if (url.size() < kSuffix.size() || url.substr(url.size() - kSuffix.size()) != kSuffix) continue;
    google::rpc::RetryInfo info;
    if (!info.ParseFromString(any.value())) continue;
    const auto& d = info.retry_delay();
    if (d.seconds() < 0 || d.nanos() < 0) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  bool digits = true;
  for (char c : value) digits &= (c >= '0' && c <= '9');
  if (digits) {
    if (value.size() > 9) return std::chrono::milliseconds(int64_t{999999999} * 1000);
    return std::chrono::milliseconds(std::stoll(std::string(value)) * 1000);
  }
  // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT" (the format HTTP requires senders to use).
  std::tm tm{};
  const std::string s(value);
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (when <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
}

}  // namespace meshlog::sink
