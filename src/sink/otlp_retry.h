// File: otlp_retry.h
//
// Which OTLP export failures are retried, exactly as the OTLP specification says
// (opentelemetry-proto docs/specification.md, "Failures" of OTLP/gRPC and OTLP/HTTP):
//   gRPC: retryable CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS;
//         RESOURCE_EXHAUSTED only when the status carries google.rpc.RetryInfo; every other code
//         (UNKNOWN, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
//         UNAUTHENTICATED, FAILED_PRECONDITION, UNIMPLEMENTED, INTERNAL) is not retried.
//   HTTP: retryable 429, 502, 503, 504; every other 4xx/5xx is not; 2xx is success. A dropped
//         connection / no response is retried.
// Server-requested delays: RetryInfo.retry_delay (in grpc-status-details-bin, a serialised
// google.rpc.Status) and the Retry-After header (delta-seconds or an HTTP-date).
//
// Example:
//   ClassifyGrpc(14 /*UNAVAILABLE*/, false) == ExportVerdict::kRetryable
//   ClassifyHttp(400) == ExportVerdict::kNonRetryable
//   ParseRetryAfter("3", now) == 3000ms
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace meshlog::sink {

enum class ExportVerdict { kSuccess, kRetryable, kNonRetryable };

// `code` is the numeric gRPC status code (0 = OK).
ExportVerdict ClassifyGrpc(int code, bool has_retry_info);
ExportVerdict ClassifyHttp(int status);

// The RetryInfo.retry_delay inside a serialised google.rpc.Status, if any.
std::optional<std::chrono::milliseconds> RetryDelayFromStatusDetails(std::string_view google_rpc_status);

// Retry-After: "120" (seconds) or "Wed, 21 Oct 2015 07:28:00 GMT". A date in the past gives 0.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

}  // namespace meshlog::sink
