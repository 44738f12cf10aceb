// File: tcp_sink.h
//
// TcpSink: the MeshAccessLog TCP backend. Newline-delimited records over one plain TCP connection
// per `address` ("host:port", hostnames resolved, IPv6 as "[::1]:port").
//
// Data path: push() (any worker thread) checks the framing (exactly one trailing '\n'; see
// FrameRecord) and appends the bytes to a ByteChunkQueue (bounded_queue.h: records are packed
// into chunks of up to `max_write_bytes` as they are queued, no allocation per record); a full
// queue drops and counts the record (`dropped_queue_full`). The sender, on the shared IoThread,
// takes whole chunks and writes them one at a time; a chunk always starts at a record boundary.
//
// Connection handling: connect timeout, write timeout, reconnect with exponential backoff and
// jitter. A pending read detects a peer that closes or resets at once, even when idle.
//
// Delivery guarantee (at-least-once, bounded replay): every written chunk is retained until
//   (a) the peer's TCP stack has acknowledged all of its bytes (Linux SIOCOUTQ: bytes still in
//       our send queue = written but not ACKed), AND
//   (b) `replay_window` (default 2 s) has passed since that acknowledgement was observed,
// with (b) capped so that acknowledged chunks retained never exceed `replay_max_bytes`
// (default 16 MiB). When a connection breaks, every retained chunk is written again, first, on
// the next connection, then the unsent ones. (a) covers bytes the kernel accepted but the dead
// peer never got; (b) covers a receiver process that dies with acknowledged but unread data in its
// socket receive buffer (or its own memory). A record can therefore be lost only when: the queue
// was full (counted), shutdown's deadline passed (counted), or the receiver lost it after holding
// it acknowledged for longer than replay_window / beyond replay_max_bytes. Re-sent records are
// counted in `records_retried`; the receiver may see them twice (duplicates are the accepted
// price of at-least-once, as in OTLP). The new connection never starts mid-record; a record cut
// by the broken connection can only be incomplete on the old connection, and it is re-sent whole.
//
// Lifetime: create with TcpSink::Create(); call shutdown() before the last reference goes away
// (pending I/O holds a reference until then).
//
// Example:
//   auto io = std::make_shared<IoThread>();
//   auto sink = TcpSink::Create(io, TcpSinkConfig{.address = "127.0.0.1:25000"});
//   sink->push("GET /x 200\n");
//   sink->shutdown(std::chrono::seconds(5));
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sink/backoff.h"
#include "sink/bounded_queue.h"
#include "sink/io_thread.h"
#include "sink/net_address.h"
#include "sink/sink.h"

namespace meshlog::sink {

struct TcpSinkConfig {
  std::string address;  // "host:port" / "[v6]:port" (policy field `backends[].tcp.address`)
  size_t queue_max_records = 100000;
  size_t queue_max_bytes = 64u << 20;
  std::chrono::milliseconds connect_timeout{5000};  // Kuma's dialer timeout
  std::chrono::milliseconds write_timeout{10000};
  BackoffConfig reconnect{.initial = std::chrono::milliseconds(100), .max = std::chrono::milliseconds(10000)};
  size_t max_write_bytes = 256u << 10;
  std::chrono::milliseconds replay_window{2000};
  size_t replay_max_bytes = 16u << 20;
};

// Connection states reported by the `connection_state` gauge.
enum class TcpConnectionState : int { kDisconnected = 0, kConnecting = 1, kConnected = 2 };

#define MESHLOG_TCP_SINK_STATS(COUNTER, GAUGE)                                                   \
  COUNTER(records_pushed)       /* push() calls */                                               \
  COUNTER(records_sent)         /* records written in full to a connection, first time */        \
  COUNTER(records_retried)      /* records written again on a new connection */                  \
  COUNTER(records_reframed)     /* records whose '\n' framing had to be repaired */              \
  COUNTER(dropped_queue_full)   /* push() refused: queue full */                                 \
  COUNTER(dropped_shutdown)     /* pushed after shutdown began, or not written by the deadline */\
  COUNTER(unconfirmed_at_shutdown) /* written but not ACKed by the peer when shutdown ended */   \
  COUNTER(bytes_sent)                                                                            \
  COUNTER(connects)             /* successful connections */                                     \
  COUNTER(connect_failures)     /* resolve/connect errors and connect timeouts */                \
  COUNTER(connection_errors)    /* established connections that broke (reset, EOF, write err) */ \
  COUNTER(write_timeouts)                                                                        \
  GAUGE(queued)                 /* records waiting in the queue */                               \
  GAUGE(pending_records)        /* records taken from the queue, not yet confirmed delivered */  \
  GAUGE(connection_state)       /* TcpConnectionState */                                         \
  GAUGE(last_error)             /* errno-style value of the last error, 0 = none yet */

struct TcpSinkStats {
  MESHLOG_TCP_SINK_STATS(MESHLOG_DECLARE_COUNTER, MESHLOG_DECLARE_GAUGE)
};

// Returns `record` with exactly one trailing '\n' and no other '\n' (interior newlines become
// spaces so one record can never become two lines). `repaired` tells whether anything changed.
std::string FrameRecord(std::string_view record, bool& repaired);

class TcpSink final : public RecordSink, public std::enable_shared_from_this<TcpSink> {
 public:
  // Throws std::invalid_argument when config.address is not host:port.
  static std::shared_ptr<TcpSink> Create(IoThreadPtr io, TcpSinkConfig config);
  ~TcpSink() override;

  std::string_view type() const override { return "tcp"; }
  std::string_view destination() const override { return destination_; }
  bool push(std::string_view record) override;
  void flush() override;
  void shutdown(std::chrono::milliseconds deadline) override;
  void visitStats(const StatVisitor& visit) const override;

  const TcpSinkStats& stats() const { return stats_; }
  std::string lastError() const;

 private:
  struct Chunk {
    std::string data;
    uint32_t records = 0;
    bool replay = false;            // written before on a broken connection
    uint64_t end_offset = 0;        // byte offset on the current connection after this chunk
    std::optional<std::chrono::steady_clock::time_point> acked_at;
  };

  TcpSink(IoThreadPtr io, TcpSinkConfig config, HostPort hp);
  void wake();
  void goIdle();
  void connect();
  void onConnected();
  void startRead();
  void startWrite();
  bool fillChunk();
  void onWriteDone(uint64_t conn_id, const boost::system::error_code& ec, size_t n);
  void breakConnection(const boost::system::error_code& ec, std::string_view what);
  void scheduleReconnect();
  void updateAcks();
  void armAckTimer();
  void checkDrained();
  void setError(int code, std::string text);
  void setState(TcpConnectionState s);

  IoThreadPtr io_;
  const TcpSinkConfig config_;
  const HostPort host_port_;
  const std::string destination_;
  mutable TcpSinkStats stats_;
  ByteChunkQueue queue_;
  std::atomic<bool> wake_pending_{false};
  // True while the sender has nothing to write and waits for push() to wake it (also before the
  // first connection). Producers wake the I/O thread only then, never while a write is running.
  std::atomic<bool> sender_idle_{true};

  // I/O-thread state.
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer io_timer_;       // connect / write timeout
  boost::asio::steady_timer backoff_timer_;
  boost::asio::steady_timer ack_timer_;
  Backoff backoff_;
  TcpConnectionState state_ = TcpConnectionState::kDisconnected;
  bool reconnect_scheduled_ = false;
  bool writing_ = false;
  bool ack_timer_armed_ = false;
  bool stopped_ = false;
  uint64_t conn_id_ = 0;
  uint64_t conn_offset_ = 0;
  std::deque<Chunk> unsent_;
  std::deque<Chunk> retained_;
  size_t retained_acked_bytes_ = 0;
  char read_buf_[512];

  // Shutdown hand-shake.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool draining_ = false;
  bool drained_ = false;
  bool shut_down_ = false;
  std::string last_error_;
};

}  // namespace meshlog::sink
