#include "sink/tcp_sink.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <future>
#include <stdexcept>

namespace meshlog::sink {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string FrameRecord(std::string_view record, bool& repaired) {
  repaired = false;
  if (!record.empty() && record.back() == '\n' &&
      std::memchr(record.data(), '\n', record.size() - 1) == nullptr) {
    return std::string(record);
  }
  repaired = true;
  while (!record.empty() && record.back() == '\n') record.remove_suffix(1);
  std::string out;
  out.reserve(record.size() + 1);
  out.append(record);
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  out.push_back('\n');
  return out;
}

std::shared_ptr<TcpSink> TcpSink::Create(IoThreadPtr io, TcpSinkConfig config) {
  auto hp = ParseHostPort(config.address);
  if (!hp) throw std::invalid_argument("tcp sink: address must be host:port, got \"" + config.address + "\"");
  return std::shared_ptr<TcpSink>(new TcpSink(std::move(io), std::move(config), std::move(*hp)));
}

TcpSink::TcpSink(IoThreadPtr io, TcpSinkConfig config, HostPort hp)
    : io_(std::move(io)),
      config_(std::move(config)),
      host_port_(std::move(hp)),
      destination_(host_port_.toString()),
      queue_(config_.queue_max_records, config_.queue_max_bytes, config_.max_write_bytes),
      resolver_(io_->context()),
      socket_(io_->context()),
      io_timer_(io_->context()),
      backoff_timer_(io_->context()),
      ack_timer_(io_->context()),
      backoff_(config_.reconnect) {}

TcpSink::~TcpSink() = default;

bool TcpSink::push(std::string_view record) {
  stats_.records_pushed.inc();
  PushResult r;
  if (!record.empty() && record.back() == '\n' && std::memchr(record.data(), '\n', record.size() - 1) == nullptr) {
    r = queue_.push(record);  // well-formed: copied once, into the queue's chunk
  } else {
    bool repaired = false;
    const std::string framed = FrameRecord(record, repaired);
    stats_.records_reframed.inc();
    r = queue_.push(framed);
  }
  if (r == PushResult::kFull) {
    stats_.dropped_queue_full.inc();
    return false;
  }
  if (r == PushResult::kClosed) {
    stats_.dropped_shutdown.inc();
    return false;
  }
  if (sender_idle_.load(std::memory_order_acquire) && sender_idle_.exchange(false, std::memory_order_acq_rel)) wake();
  return true;
}

void TcpSink::goIdle() {
  sender_idle_.store(true, std::memory_order_seq_cst);
  // A push that queued before the flag was set did not wake us: look again.
  if (queue_.size() > 0 && sender_idle_.exchange(false, std::memory_order_acq_rel)) wake();
}

void TcpSink::wake() {
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
  asio::post(io_->context(), [self = shared_from_this()] {
    self->wake_pending_.store(false, std::memory_order_release);
    if (self->stopped_) return;
    if (self->state_ == TcpConnectionState::kConnected) {
      self->startWrite();
    } else if (self->state_ == TcpConnectionState::kDisconnected && !self->reconnect_scheduled_) {
      self->connect();
    }
  });
}

void TcpSink::flush() {
  sender_idle_.store(false);
  wake();
}

void TcpSink::setError(int code, std::string text) {
  stats_.last_error.set(code);
  std::lock_guard<std::mutex> lock(mu_);
  last_error_ = std::move(text);
}

std::string TcpSink::lastError() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

void TcpSink::setState(TcpConnectionState s) {
  state_ = s;
  stats_.connection_state.set(static_cast<int>(s));
}

void TcpSink::connect() {
  if (stopped_) return;
  setState(TcpConnectionState::kConnecting);
  const uint64_t id = ++conn_id_;
  io_timer_.expires_after(config_.connect_timeout);
  io_timer_.async_wait([self = shared_from_this(), id](const boost::system::error_code& ec) {
    if (ec || id != self->conn_id_ || self->state_ != TcpConnectionState::kConnecting) return;
    self->resolver_.cancel();
    boost::system::error_code ignored;
    self->socket_.close(ignored);  // the pending connect completes with operation_aborted
  });
  resolver_.async_resolve(
      host_port_.host, std::to_string(host_port_.port),
      [self = shared_from_this(), id](const boost::system::error_code& ec, tcp::resolver::results_type results) {
        if (id != self->conn_id_ || self->stopped_) return;
        if (ec) {
          self->stats_.connect_failures.inc();
          self->setError(ec.value(), "resolve " + self->host_port_.host + ": " + ec.message());
          self->io_timer_.cancel();
          self->setState(TcpConnectionState::kDisconnected);
          self->scheduleReconnect();
          return;
        }
        asio::async_connect(self->socket_, results,
                            [self, id](const boost::system::error_code& ec2, const tcp::endpoint&) {
                              if (id != self->conn_id_ || self->stopped_) return;
                              self->io_timer_.cancel();
                              if (ec2) {
                                self->stats_.connect_failures.inc();
                                const bool timed_out = ec2 == asio::error::operation_aborted;
                                self->setError(timed_out ? ETIMEDOUT : ec2.value(),
                                               "connect " + self->destination_ + ": " +
                                                   (timed_out ? std::string("timed out") : ec2.message()));
                                boost::system::error_code ignored;
                                self->socket_.close(ignored);
                                self->setState(TcpConnectionState::kDisconnected);
                                self->scheduleReconnect();
                                return;
                              }
                              self->onConnected();
                            });
      });
}

void TcpSink::onConnected() {
  stats_.connects.inc();
  backoff_.reset();
  conn_offset_ = 0;
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  setState(TcpConnectionState::kConnected);
  startRead();
  startWrite();
}

void TcpSink::startRead() {
  // Receivers never send on this connection; a completed read means the peer closed or reset.
  socket_.async_read_some(asio::buffer(read_buf_),
                          [self = shared_from_this(), id = conn_id_](const boost::system::error_code& ec, size_t) {
                            if (id != self->conn_id_ || self->stopped_) return;
                            if (!ec) {
                              self->startRead();  // unexpected bytes from the peer: ignore
                              return;
                            }
                            self->breakConnection(ec, ec == asio::error::eof ? "closed by peer" : "read");
                          });
}

bool TcpSink::fillChunk() {
  ByteChunkQueue::Chunk q;
  if (!queue_.pop(q)) return false;
  Chunk c;
  c.data = std::move(q.data);
  c.records = q.records;
  stats_.pending_records.add(c.records);
  unsent_.push_back(std::move(c));
  return true;
}

void TcpSink::startWrite() {
  if (writing_ || state_ != TcpConnectionState::kConnected || stopped_) return;
  if (unsent_.empty() && !fillChunk()) {
    goIdle();
    checkDrained();
    return;
  }
  writing_ = true;
  const uint64_t id = conn_id_;
  io_timer_.expires_after(config_.write_timeout);
  io_timer_.async_wait([self = shared_from_this(), id](const boost::system::error_code& ec) {
    if (ec || id != self->conn_id_ || !self->writing_) return;
    self->stats_.write_timeouts.inc();
    self->breakConnection(asio::error::timed_out, "write timed out");
  });
  asio::async_write(socket_, asio::buffer(unsent_.front().data),
                    [self = shared_from_this(), id](const boost::system::error_code& ec, size_t n) {
                      self->onWriteDone(id, ec, n);
                    });
}

void TcpSink::onWriteDone(uint64_t conn_id, const boost::system::error_code& ec, size_t n) {
  if (conn_id != conn_id_ || stopped_) return;
  writing_ = false;
  io_timer_.cancel();
  if (ec) {
    breakConnection(ec, "write");
    return;
  }
  Chunk c = std::move(unsent_.front());
  unsent_.pop_front();
  conn_offset_ += n;
  c.end_offset = conn_offset_;
  (c.replay ? stats_.records_retried : stats_.records_sent).inc(c.records);
  stats_.bytes_sent.inc(n);
  retained_.push_back(std::move(c));
  updateAcks();
  startWrite();
}

void TcpSink::updateAcks() {
  if (state_ != TcpConnectionState::kConnected) return;
  int outq = 0;
  if (::ioctl(socket_.native_handle(), SIOCOUTQ, &outq) != 0) outq = static_cast<int>(conn_offset_);
  const uint64_t acked = conn_offset_ - std::min<uint64_t>(conn_offset_, static_cast<uint64_t>(outq));
  const auto now = Clock::now();
  for (auto& c : retained_) {
    if (c.end_offset > acked) break;
    if (!c.acked_at) {
      c.acked_at = now;
      retained_acked_bytes_ += c.data.size();
    }
  }
  while (!retained_.empty() && retained_.front().acked_at &&
         (now - *retained_.front().acked_at > config_.replay_window ||
          retained_acked_bytes_ > config_.replay_max_bytes)) {
    retained_acked_bytes_ -= retained_.front().data.size();
    stats_.pending_records.sub(retained_.front().records);
    retained_.pop_front();
  }
  checkDrained();
  if (!retained_.empty()) armAckTimer();
}

void TcpSink::armAckTimer() {
  if (ack_timer_armed_) return;
  ack_timer_armed_ = true;
  ack_timer_.expires_after(std::chrono::milliseconds(100));
  ack_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->ack_timer_armed_ = false;
    if (ec || self->stopped_) return;
    self->updateAcks();
  });
}

void TcpSink::breakConnection(const boost::system::error_code& ec, std::string_view what) {
  if (state_ != TcpConnectionState::kConnected) return;
  stats_.connection_errors.inc();
  setError(ec.value(), std::string(what) + " " + destination_ + ": " + ec.message());
  ++conn_id_;  // every handler of the old connection becomes stale
  writing_ = false;
  io_timer_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
  // Re-send everything retained (not ACKed, or ACKed within the replay window), then what was
  // never written. The chunk that was being written is still at the front of unsent_.
  const auto now = Clock::now();
  while (!retained_.empty()) {
    Chunk c = std::move(retained_.back());
    retained_.pop_back();
    if (c.acked_at && now - *c.acked_at > config_.replay_window) {
      stats_.pending_records.sub(c.records);
      continue;  // delivered long enough ago
    }
    c.replay = true;
    c.acked_at.reset();
    unsent_.push_front(std::move(c));
  }
  retained_acked_bytes_ = 0;
  setState(TcpConnectionState::kDisconnected);
  scheduleReconnect();
}

void TcpSink::scheduleReconnect() {
  if (stopped_ || reconnect_scheduled_) return;
  reconnect_scheduled_ = true;
  backoff_timer_.expires_after(backoff_.nextDelay());
  backoff_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stopped_) return;  // cancelled: whoever cancelled reset the flag
    self->reconnect_scheduled_ = false;
    self->connect();
  });
}

void TcpSink::checkDrained() {
  bool notify = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!draining_ || drained_) return;
    if (!queue_.closed() || queue_.size() != 0 || !unsent_.empty() || writing_) return;
    // Everything written: done once the peer has ACKed all of it.
    for (const auto& c : retained_) {
      if (!c.acked_at) return;
    }
    drained_ = true;
    notify = true;
  }
  if (notify) cv_.notify_all();
}

void TcpSink::shutdown(std::chrono::milliseconds deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    draining_ = true;
  }
  queue_.close();
  asio::post(io_->context(), [self = shared_from_this()] {
    if (self->state_ == TcpConnectionState::kConnected) {
      self->startWrite();
      self->updateAcks();
    } else if (self->state_ == TcpConnectionState::kDisconnected &&
               (self->queue_.size() > 0 || !self->unsent_.empty())) {
      // Try at once instead of waiting out the backoff: the deadline is running.
      self->backoff_timer_.cancel();
      self->reconnect_scheduled_ = false;
      if (self->state_ == TcpConnectionState::kDisconnected) self->connect();
    }
    self->checkDrained();
  });
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, deadline, [this] { return drained_; });
  }
  // Stop all I/O on the I/O thread and wait for it, then count what was not delivered.
  std::promise<void> done;
  asio::post(io_->context(), [self = shared_from_this(), &done] {
    self->stopped_ = true;
    ++self->conn_id_;
    self->resolver_.cancel();
    self->io_timer_.cancel();
    self->backoff_timer_.cancel();
    self->ack_timer_.cancel();
    if (self->state_ == TcpConnectionState::kConnected) self->updateAcks();
    boost::system::error_code ignored;
    self->socket_.close(ignored);
    self->setState(TcpConnectionState::kDisconnected);
    uint64_t unsent = 0, unconfirmed = 0;
    for (ByteChunkQueue::Chunk left; self->queue_.pop(left);) unsent += left.records;
    for (const auto& c : self->unsent_) unsent += c.records;
    for (const auto& c : self->retained_) {
      if (!c.acked_at) unconfirmed += c.records;
    }
    self->stats_.dropped_shutdown.inc(unsent);
    self->stats_.unconfirmed_at_shutdown.inc(unconfirmed);
    self->unsent_.clear();
    self->retained_.clear();
    self->stats_.pending_records.set(0);
    done.set_value();
  });
  done.get_future().wait();
}

void TcpSink::visitStats(const StatVisitor& visit) const {
  stats_.queued.set(static_cast<int64_t>(queue_.size()));
  const TcpSinkStats& stats = stats_;
  MESHLOG_TCP_SINK_STATS(MESHLOG_VISIT_STAT_COUNTER, MESHLOG_VISIT_STAT_GAUGE)
}

}  // namespace meshlog::sink
