// File: file_sink.h
//
// FileSink: the File backend of MeshAccessLog (formatter.md 6.1, issue 5). Workers push formatted
// records (push() copies into a bounded in-memory buffer under a short mutex and never blocks on
// I/O); one writer thread per file owns the file descriptor and writes the buffer out with ONE
// write() per flush.
//
// * Flush when the buffer reaches `flush_bytes` (64 KiB) or every `flush_interval` (1 s).
// * Bounded: beyond `max_buffered_bytes` (64 MiB) records are dropped and counted (`dropped`).
// * Rotation: reopen() (SIGUSR1, POST /reopen_logs) closes and reopens before the next write; a
//   regular file that was renamed away or deleted (logrotate without a signal) is noticed at the
//   next flush and reopened automatically.
// * Failures never crash: an unopenable path counts `open_errors` and the writer retries at every
//   flush; a failed/short write (disk full, /dev/full) counts `write_errors` and the records of that
//   flush as `dropped`. Logging resumes by itself when the cause goes away.
// * `/dev/stdout` and other character devices / pipes are opened like any path.
//
// Several access logs writing to one path share one FileSink: get it from a FileSinkRegistry.
//
// Example:
//   FileSinkRegistry registry;
//   RecordSinkPtr sink = registry.Get("/var/log/access.log", FileSinkOptions{});
//   sink->push("GET / 200\n");
//   registry.ReopenAll();                      // after logrotate
//   sink->shutdown(std::chrono::seconds(5));   // flushes and stops the writer
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/stats.h"
#include "sink/sink.h"

namespace meshlog::sink {

struct FileSinkOptions {
  size_t flush_bytes = 64 * 1024;                    // flush when this much is buffered
  std::chrono::milliseconds flush_interval{1000};    // ... or this often
  size_t max_buffered_bytes = 64 * 1024 * 1024;      // beyond: drop and count
};

// Stats of one file. `written`/`dropped` count records, `bytes` counts bytes written, `errors` =
// open_errors + write_errors, `queued` = records buffered, `queued_bytes` = bytes buffered.
#define MESHLOG_FILE_SINK_STATS(COUNTER, GAUGE)                                                  \
  COUNTER(written) COUNTER(dropped) COUNTER(bytes) COUNTER(reopens) COUNTER(errors)               \
  COUNTER(open_errors) COUNTER(write_errors) COUNTER(flushes) COUNTER(flushed_by_timer)           \
  GAUGE(queued) GAUGE(queued_bytes)

struct FileSinkStats {
  MESHLOG_FILE_SINK_STATS(MESHLOG_DECLARE_COUNTER, MESHLOG_DECLARE_GAUGE)
};

class FileSink final : public RecordSink {
 public:
  // Opens `path` (append, create 0644) and starts the writer thread. Never fails: an open error is
  // counted and retried at every flush interval.
  FileSink(std::string path, FileSinkOptions options);
  ~FileSink() override;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  bool push(std::string_view record) override;
  std::string_view type() const override { return "file"; }
  std::string_view destination() const override { return path_; }
  void flush() override;
  void reopen() override;
  void shutdown(std::chrono::milliseconds deadline) override;
  void visitStats(const StatVisitor& visit) const override;

  const FileSinkStats& stats() const { return stats_; }
  // The last open/write error ("open /x/y: Permission denied"), empty when the last attempt worked.
  std::string last_error() const;
  // Blocks until everything pushed before the call has been written or dropped (tests, drain).
  void FlushAndWait();

 private:
  void Run();
  void WriteBatch(std::string& batch, uint64_t records);
  bool EnsureOpen();
  void CloseFd();
  bool RenamedAway() const;
  void SetError(std::string message);

  const std::string path_;
  const FileSinkOptions options_;
  FileSinkStats stats_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::string buffer_;          // guarded by mu_
  uint64_t buffer_records_ = 0;  // guarded by mu_
  bool stop_ = false;
  bool flush_requested_ = false;
  bool reopen_requested_ = false;
  uint64_t generation_pushed_ = 0;   // flush requests issued
  uint64_t generation_written_ = 0;  // flush requests completed
  std::string last_error_;           // guarded by mu_

  // Writer-thread state.
  int fd_ = -1;
  bool in_error_ = false;
  std::thread writer_;
};

// One FileSink per path (several policies writing to one file share one writer).
class FileSinkRegistry {
 public:
  std::shared_ptr<FileSink> Get(const std::string& path, const FileSinkOptions& options = {});
  void ReopenAll();
  // Every live sink (for /metrics and shutdown).
  std::vector<std::shared_ptr<FileSink>> All();

 private:
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<FileSink>> sinks_;
};

}  // namespace meshlog::sink
