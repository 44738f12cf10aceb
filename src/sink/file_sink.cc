#include "sink/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace meshlog::sink {

FileSink::FileSink(std::string path, FileSinkOptions options)
    : path_(std::move(path)), options_(options) {
  buffer_.reserve(options_.flush_bytes * 2);
  EnsureOpen();  // report an unwritable path at once; the writer retries
  writer_ = std::thread([this] { Run(); });
}

FileSink::~FileSink() { shutdown(std::chrono::seconds(5)); }

bool FileSink::push(std::string_view record) {
  std::unique_lock lock(mu_);
  if (stop_ || buffer_.size() + record.size() > options_.max_buffered_bytes) {
    lock.unlock();
    stats_.dropped.inc();
    return false;
  }
  buffer_.append(record);
  ++buffer_records_;
  stats_.queued.add(1);
  stats_.queued_bytes.add(static_cast<int64_t>(record.size()));
  const bool wake = buffer_.size() >= options_.flush_bytes;
  lock.unlock();
  if (wake) cv_.notify_one();
  return true;
}

void FileSink::flush() {
  {
    std::lock_guard lock(mu_);
    flush_requested_ = true;
    ++generation_pushed_;
  }
  cv_.notify_one();
}

void FileSink::FlushAndWait() {
  std::unique_lock lock(mu_);
  if (stop_ && !writer_.joinable()) return;
  flush_requested_ = true;
  const uint64_t target = ++generation_pushed_;
  cv_.notify_one();
  done_cv_.wait(lock, [&] { return generation_written_ >= target || !writer_.joinable(); });
}

void FileSink::reopen() {
  {
    std::lock_guard lock(mu_);
    reopen_requested_ = true;
    flush_requested_ = true;
  }
  cv_.notify_one();
}

void FileSink::shutdown(std::chrono::milliseconds /*deadline*/) {
  // The writer writes what is buffered with one final write(); a blocked write (full pipe) cannot
  // be bounded from here, regular files and devices return promptly.
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (writer_.joinable() && writer_.get_id() != std::this_thread::get_id()) writer_.join();
  CloseFd();
  done_cv_.notify_all();
}

void FileSink::visitStats(const StatVisitor& visit) const {
  const FileSinkStats& stats = stats_;
  MESHLOG_FILE_SINK_STATS(MESHLOG_VISIT_STAT_COUNTER, MESHLOG_VISIT_STAT_GAUGE)
}

std::string FileSink::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void FileSink::SetError(std::string message) {
  if (!in_error_) std::fprintf(stderr, "meshlog: access log %s\n", message.c_str());
  in_error_ = true;
  std::lock_guard lock(mu_);
  last_error_ = std::move(message);
}

void FileSink::Run() {
  std::string batch;
  batch.reserve(options_.flush_bytes * 2);
  auto next_timer = std::chrono::steady_clock::now() + options_.flush_interval;
  for (;;) {
    uint64_t records = 0;
    uint64_t generation = 0;
    bool stopping = false;
    bool by_timer = false;
    {
      std::unique_lock lock(mu_);
      const bool woke = cv_.wait_until(lock, next_timer, [&] {
        return stop_ || flush_requested_ || buffer_.size() >= options_.flush_bytes;
      });
      by_timer = !woke;
      if (by_timer) next_timer = std::chrono::steady_clock::now() + options_.flush_interval;
      if (reopen_requested_) {
        reopen_requested_ = false;
        lock.unlock();
        CloseFd();
        if (EnsureOpen()) stats_.reopens.inc();
        lock.lock();
      }
      flush_requested_ = false;
      batch.swap(buffer_);
      records = buffer_records_;
      buffer_records_ = 0;
      generation = generation_pushed_;
      stopping = stop_;
      stats_.queued.sub(static_cast<int64_t>(records));
      stats_.queued_bytes.sub(static_cast<int64_t>(batch.size()));
    }
    if (by_timer) stats_.flushed_by_timer.inc();
    // Automatic reopen when the path was renamed away / deleted (checked at most once per flush).
    if (fd_ >= 0 && RenamedAway()) {
      CloseFd();
      if (EnsureOpen()) stats_.reopens.inc();
    }
    if (!batch.empty()) WriteBatch(batch, records);
    batch.clear();
    {
      std::lock_guard lock(mu_);
      if (generation > generation_written_) generation_written_ = generation;
    }
    done_cv_.notify_all();
    if (stopping) {
      // Drain anything pushed between the swap and stop (push() refuses after stop_).
      std::unique_lock lock(mu_);
      if (buffer_.empty()) break;
    }
  }
  std::lock_guard lock(mu_);
  generation_written_ = generation_pushed_;
}

void FileSink::WriteBatch(std::string& batch, uint64_t records) {
  if (!EnsureOpen()) {
    stats_.dropped.inc(records);
    return;
  }
  stats_.flushes.inc();
  size_t off = 0;
  // One write() per flush; the loop only continues after a partial write or EINTR.
  while (off < batch.size()) {
    const ssize_t n = ::write(fd_, batch.data() + off, batch.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      stats_.write_errors.inc();
      stats_.errors.inc();
      stats_.dropped.inc(records);
      SetError("write " + path_ + ": " + std::strerror(err));
      return;
    }
    if (n == 0) break;
    off += static_cast<size_t>(n);
    stats_.bytes.inc(static_cast<uint64_t>(n));
  }
  if (off < batch.size()) {
    stats_.write_errors.inc();
    stats_.errors.inc();
    stats_.dropped.inc(records);
    SetError("write " + path_ + ": short write");
    return;
  }
  stats_.written.inc(records);
  if (in_error_) {
    std::fprintf(stderr, "meshlog: access log %s: writing again\n", path_.c_str());
    in_error_ = false;
    std::lock_guard lock(mu_);
    last_error_.clear();
  }
}

bool FileSink::EnsureOpen() {
  if (fd_ >= 0) return true;
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    stats_.open_errors.inc();
    stats_.errors.inc();
    SetError("open " + path_ + ": " + std::strerror(err));
    return false;
  }
  fd_ = fd;
  return true;
}

void FileSink::CloseFd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool FileSink::RenamedAway() const {
  struct stat open_st {};
  if (::fstat(fd_, &open_st) != 0 || !S_ISREG(open_st.st_mode)) return false;
  struct stat path_st {};
  if (::stat(path_.c_str(), &path_st) != 0) return true;  // deleted or moved
  return path_st.st_ino != open_st.st_ino || path_st.st_dev != open_st.st_dev;
}

std::shared_ptr<FileSink> FileSinkRegistry::Get(const std::string& path, const FileSinkOptions& options) {
  const std::string key = std::filesystem::path(path).lexically_normal().string();
  std::lock_guard lock(mu_);
  if (auto existing = sinks_[key].lock()) return existing;
  auto sink = std::make_shared<FileSink>(key, options);
  sinks_[key] = sink;
  return sink;
}

void FileSinkRegistry::ReopenAll() {
  for (auto& sink : All()) sink->reopen();
}

std::vector<std::shared_ptr<FileSink>> FileSinkRegistry::All() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<FileSink>> out;
  for (auto it = sinks_.begin(); it != sinks_.end();) {
    if (auto s = it->second.lock()) {
      out.push_back(std::move(s));
      ++it;
    } else {
      it = sinks_.erase(it);
    }
  }
  return out;
}

}  // namespace meshlog::sink
