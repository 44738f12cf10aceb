// File: bounded_queue.h
//
// BoundedQueue<T>: the hand-off between many producer threads (proxy workers calling a sink's
// push()) and the one sender of a network destination. Bounded both in items and in bytes;
// push() never blocks on I/O and never waits for the consumer: when a limit would be exceeded
// the item is refused and the caller counts the drop (the only way a record is lost before it
// reaches the sender). After close() every push() is refused with kClosed.
//
// The consumer takes items in bulk (popAll / popBytes) so that one lock acquisition moves a
// whole batch; producers hold the lock only for one move into a std::deque.
//
// Example:
//   BoundedQueue<std::string> q(/*max_items=*/10000, /*max_bytes=*/8 << 20);
//   auto r = q.push(std::string("rec\n"), 4);       // kOkWasEmpty: wake the sender
//   std::vector<std::string> batch;
//   q.popAll(batch);                                // batch == {"rec\n"}
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshlog::sink {

enum class PushResult {
  kOk,           // queued behind other items
  kOkWasEmpty,   // queued into an empty queue: the consumer may be idle and should be woken
  kFull,         // refused: max_items or max_bytes would be exceeded
  kClosed,       // refused: close() was called
};

inline bool Accepted(PushResult r) { return r == PushResult::kOk || r == PushResult::kOkWasEmpty; }

template <typename T>
class BoundedQueue {
 public:
  BoundedQueue(size_t max_items, size_t max_bytes) : max_items_(max_items), max_bytes_(max_bytes) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Moves `item` (accounted as `bytes`) to the back of the queue unless that would exceed a limit.
  // An item larger than max_bytes on its own is always refused. When `bytes_after` is given and
  // the item was queued, it receives the queue's byte total including the item (lets a batching
  // consumer be woken only when a batch's worth has accumulated).
  PushResult push(T&& item, size_t bytes, size_t* bytes_after = nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return PushResult::kClosed;
    if (items_.size() + 1 > max_items_ || bytes_ + bytes > max_bytes_) return PushResult::kFull;
    const bool was_empty = items_.empty();
    items_.emplace_back(std::move(item), bytes);
    bytes_ += bytes;
    if (bytes_after) *bytes_after = bytes_;
    return was_empty ? PushResult::kOkWasEmpty : PushResult::kOk;
  }

  // Appends every queued item to `out` in FIFO order; returns how many were moved.
  size_t popAll(std::vector<T>& out) { return popBytes(out, static_cast<size_t>(-1)); }

  // Appends items in FIFO order to `out` while the bytes moved stay <= `max_bytes` (at least one
  // item is moved when the queue is not empty, even if it alone is larger). Returns the count.
  size_t popBytes(std::vector<T>& out, size_t max_bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t moved = 0, moved_bytes = 0;
    while (!items_.empty()) {
      auto& front = items_.front();
      if (moved > 0 && moved_bytes + front.second > max_bytes) break;
      moved_bytes += front.second;
      out.push_back(std::move(front.first));
      items_.pop_front();
      ++moved;
    }
    bytes_ -= moved_bytes;
    return moved;
  }

  // Refuses every later push(); queued items stay poppable.
  void close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }
  size_t bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }
  size_t maxItems() const { return max_items_; }
  size_t maxBytes() const { return max_bytes_; }

 private:
  const size_t max_items_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::deque<std::pair<T, size_t>> items_;
  size_t bytes_ = 0;
  bool closed_ = false;
};

}  // namespace meshlog::sink

namespace meshlog::sink {

// ByteChunkQueue: the BoundedQueue contract specialised for newline-delimited byte records (the
// TCP backend's hot path). push() appends the record's bytes to the newest chunk (a new chunk is
// started when the record would make it exceed `chunk_bytes`), so queueing costs one memcpy under
// the lock and no allocation per record; the consumer takes whole chunks, which it writes as is.
// Bounded in records and bytes; a full queue refuses the record (the caller counts the drop).
//
// Example:
//   ByteChunkQueue q(/*max_records=*/100000, /*max_bytes=*/64 << 20, /*chunk_bytes=*/256 << 10);
//   q.push("a\n");
//   q.push("b\n");
//   ByteChunkQueue::Chunk c;
//   q.pop(c);   // c.data == "a\nb\n", c.records == 2
class ByteChunkQueue {
 public:
  struct Chunk {
    std::string data;
    uint32_t records = 0;
  };

  ByteChunkQueue(size_t max_records, size_t max_bytes, size_t chunk_bytes)
      : max_records_(max_records), max_bytes_(max_bytes), chunk_bytes_(chunk_bytes) {}
  ByteChunkQueue(const ByteChunkQueue&) = delete;
  ByteChunkQueue& operator=(const ByteChunkQueue&) = delete;

  // Appends one record made of `head` followed by `tail` (e.g. a length prefix and a body).
  // `sealed` (optional) is set when this record started a new chunk behind a non-empty one, i.e.
  // a full chunk is now waiting.
  PushResult push(std::string_view head, std::string_view tail = {}, bool* sealed = nullptr) {
    const size_t n = head.size() + tail.size();
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return PushResult::kClosed;
    if (records_ + 1 > max_records_ || bytes_ + n > max_bytes_) return PushResult::kFull;
    const bool was_empty = records_ == 0;
    bool new_chunk = chunks_.empty() || chunks_.back().records == 0;
    if (!new_chunk && chunks_.back().data.size() + n > chunk_bytes_) {
      new_chunk = true;
      if (sealed) *sealed = true;
    }
    if (new_chunk && (chunks_.empty() || chunks_.back().records > 0)) {
      chunks_.emplace_back();
      chunks_.back().data.reserve(std::max(chunk_bytes_, n));
    }
    chunks_.back().data.append(head);
    chunks_.back().data.append(tail);
    chunks_.back().records++;
    records_++;
    bytes_ += n;
    return was_empty ? PushResult::kOkWasEmpty : PushResult::kOk;
  }

  // Number of chunks (all but the last are full).
  size_t chunks() const {
    std::lock_guard<std::mutex> lock(mu_);
    return chunks_.size();
  }

  // Moves the oldest chunk into `out`; false when the queue is empty.
  bool pop(Chunk& out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (chunks_.empty()) return false;
    out = std::move(chunks_.front());
    chunks_.pop_front();
    records_ -= out.records;
    bytes_ -= out.data.size();
    return true;
  }

  void close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  size_t size() const {  // records
    std::lock_guard<std::mutex> lock(mu_);
    return records_;
  }
  size_t bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }

 private:
  const size_t max_records_;
  const size_t max_bytes_;
  const size_t chunk_bytes_;
  mutable std::mutex mu_;
  std::deque<Chunk> chunks_;
  size_t records_ = 0;
  size_t bytes_ = 0;
  bool closed_ = false;
};

}  // namespace meshlog::sink
