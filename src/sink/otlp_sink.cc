#include "sink/otlp_sink.h"

#include <boost/asio/post.hpp>
#include <future>
#include <stdexcept>

#include "sink/net_address.h"
#include "sink/otlp_grpc_transport.h"
#include "sink/otlp_http_transport.h"

namespace meshlog::sink {

namespace asio = boost::asio;

std::shared_ptr<OtlpSink> OtlpSink::Create(IoThreadPtr io, OtlpSinkConfig config) {
  auto hp = ParseHostPort(config.endpoint, 4317);
  if (!hp) throw std::invalid_argument("otlp sink: endpoint must be host[:port], got \"" + config.endpoint + "\"");
  OtlpTransportPtr transport;
  std::string destination = hp->toString();
  if (config.protocol == OtlpProtocol::kGrpc) {
    transport = std::make_shared<OtlpGrpcTransport>(io, hp->toString(), config.request_timeout);
  } else {
    std::string path = OtlpHttpRequestPath(config);
    destination += path;
    transport = std::make_shared<OtlpHttpTransport>(io, *hp, path, config.request_timeout);
  }
  return Create(std::move(io), std::move(config), std::move(transport), std::move(destination));
}

OtelSinkPtr CreateOtlpSink(const IoThreadPtr& io, const OtlpSinkConfig& config) { return OtlpSink::Create(io, config); }

std::shared_ptr<OtlpSink> OtlpSink::Create(IoThreadPtr io, OtlpSinkConfig config, OtlpTransportPtr transport,
                                           std::string destination) {
  return std::shared_ptr<OtlpSink>(
      new OtlpSink(std::move(io), std::move(config), std::move(transport), std::move(destination)));
}

OtlpSink::OtlpSink(IoThreadPtr io, OtlpSinkConfig config, OtlpTransportPtr transport, std::string destination)
    : io_(std::move(io)),
      config_(std::move(config)),
      transport_(std::move(transport)),
      destination_(std::move(destination)),
      queue_(config_.queue_max_records, config_.queue_max_bytes, config_.batch_max_bytes),
      builder_(EncodeResource(config_.resource)),
      flush_timer_(io_->context()) {}

bool OtlpSink::push(format::OtelRecord&& record) {
  stats_.records_pushed.inc();
  // Encoded on the calling thread into a per-thread scratch buffer, then copied once into the
  // queue's current batch chunk (ScopeLogs.log_records framing included): no allocation per record.
  thread_local std::string scratch;
  scratch.clear();
  EncodeLogRecord(record, scratch);
  char header[8];
  const size_t header_size = PutFramedRecordHeader(header, scratch.size());
  bool sealed = false;
  const PushResult r = queue_.push(std::string_view(header, header_size), scratch, &sealed);
  if (scratch.capacity() > (1u << 20)) std::string().swap(scratch);  // do not pin a huge record's buffer
  if (r == PushResult::kFull) {
    stats_.dropped_queue_full.inc();
    return false;
  }
  if (r == PushResult::kClosed) {
    stats_.dropped_shutdown.inc();
    return false;
  }
  // Wake the batcher only when it has something to do: the first record (to start the batch
  // timer) and each time a batch's worth has accumulated (a full chunk). Not once per record.
  if (r == PushResult::kOkWasEmpty || sealed) wake();
  return true;
}

void OtlpSink::wake() {
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
  asio::post(io_->context(), [self = shared_from_this()] {
    self->wake_pending_.store(false, std::memory_order_release);
    self->pump();
  });
}

void OtlpSink::flush() {
  asio::post(io_->context(), [self = shared_from_this()] {
    self->flush_due_ = true;
    self->pump();
  });
}

void OtlpSink::pump() {
  if (stopped_) return;
  // Records stay in the queue until a batch is sent: a full batch (>= batch_max_bytes) goes at
  // once, a partial one when the batch timer fired (flush_due_), on flush() or during shutdown.
  const size_t max_in_flight = static_cast<size_t>(std::max(1, config_.max_in_flight));
  const bool no_delay = config_.batch_max_delay.count() <= 0;
  while (active_.size() < max_in_flight) {
    const size_t chunks = queue_.chunks();
    if (chunks == 0) {
      flush_due_ = false;
      break;
    }
    // Every chunk but the last is a full batch; the last one goes only when it is due.
    const bool partial = chunks == 1;
    if (partial && !flush_due_ && !drain_now_ && !no_delay) break;
    ByteChunkQueue::Chunk c;
    if (!queue_.pop(c)) break;
    // The batch timer keeps running after a partial batch went: records queued since are younger
    // than the batch it was started for, so none waits longer than batch_max_delay.
    if (partial) flush_due_ = false;
    dispatch(std::move(c));
  }
  if (queue_.bytes() > 0 && !flush_timer_armed_ && !no_delay) {
    flush_timer_armed_ = true;
    flush_timer_.expires_after(config_.batch_max_delay);
    flush_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      self->flush_timer_armed_ = false;
      self->flush_due_ = true;
      self->pump();
    });
  }
  checkDrained();
}

void OtlpSink::dispatch(ByteChunkQueue::Chunk chunk) {
  auto b = std::make_shared<Batch>(Batch{nullptr, 0, Backoff(config_.retry), nullptr, false});
  b->records = chunk.records;
  b->request = std::make_shared<const std::string>(builder_.finishWith(chunk.data));
  active_.insert(b);
  stats_.in_flight_requests.set(static_cast<int64_t>(active_.size()));
  stats_.in_flight_records.add(b->records);
  send(b);
}

void OtlpSink::send(const BatchPtr& b) {
  stats_.requests_sent.inc();
  transport_->send(b->request, [self = shared_from_this(), b](ExportResult r) { self->onResult(b, std::move(r)); });
}

void OtlpSink::onResult(const BatchPtr& b, ExportResult r) {
  if (stopped_ || active_.count(b) == 0) return;  // counted by shutdown already
  stats_.connection_state.set(transport_->connectionState());
  switch (r.verdict) {
    case ExportVerdict::kSuccess: {
      stats_.requests_succeeded.inc();
      const int64_t rejected = std::clamp<int64_t>(r.rejected, 0, b->records);
      stats_.records_sent.inc(b->records - static_cast<uint64_t>(rejected));
      stats_.records_rejected.inc(static_cast<uint64_t>(rejected));
      if (rejected > 0) {
        setError(r.code, "partial success: " + std::to_string(rejected) + " rejected: " + r.partial_message);
      } else if (!r.partial_message.empty()) {
        stats_.partial_success_warnings.inc();
      }
      release(b);
      return;
    }
    case ExportVerdict::kRetryable: {
      stats_.requests_failed.inc();
      setError(r.code, r.error);
      if (b->backoff.exhausted()) {
        stats_.dropped_retry_exhausted.inc(b->records);
        release(b);
        return;
      }
      const auto delay = b->backoff.nextDelay(r.retry_after);
      if (!b->retry_timer) b->retry_timer = std::make_unique<asio::steady_timer>(io_->context());
      b->retrying = true;
      b->retry_timer->expires_after(delay);
      b->retry_timer->async_wait([self = shared_from_this(), b](const boost::system::error_code& ec) {
        if (ec || self->stopped_) return;
        b->retrying = false;
        self->stats_.requests_retried.inc();
        self->stats_.records_retried.inc(b->records);
        self->send(b);
      });
      return;
    }
    case ExportVerdict::kNonRetryable:
      stats_.requests_failed.inc();
      stats_.dropped_non_retryable.inc(b->records);
      setError(r.code, r.error);
      release(b);
      return;
  }
}

void OtlpSink::release(const BatchPtr& b) {
  active_.erase(b);
  stats_.in_flight_requests.set(static_cast<int64_t>(active_.size()));
  stats_.in_flight_records.sub(b->records);
  pump();
  checkDrained();
}

void OtlpSink::checkDrained() {
  bool notify = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!draining_ || drained_) return;
    if (!queue_.closed() || queue_.size() != 0 || !active_.empty()) return;
    drained_ = true;
    notify = true;
  }
  if (notify) cv_.notify_all();
}

void OtlpSink::setError(int code, std::string text) {
  stats_.last_error.set(code);
  std::lock_guard<std::mutex> lock(mu_);
  last_error_ = std::move(text);
}

std::string OtlpSink::lastError() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

void OtlpSink::shutdown(std::chrono::milliseconds deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    draining_ = true;
  }
  queue_.close();
  asio::post(io_->context(), [self = shared_from_this()] {
    self->drain_now_ = true;
    self->pump();
    self->checkDrained();
  });
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, deadline, [this] { return drained_; });
  }
  auto stopped = std::make_shared<std::promise<void>>();
  auto future = stopped->get_future();
  asio::post(io_->context(), [self = shared_from_this(), stopped] {
    self->stopped_ = true;
    self->flush_timer_.cancel();
    uint64_t lost = 0;
    for (ByteChunkQueue::Chunk left; self->queue_.pop(left);) lost += left.records;
    for (const auto& b : self->active_) {
      lost += b->records;
      if (b->retry_timer) b->retry_timer->cancel();
    }
    self->active_.clear();
    self->stats_.in_flight_requests.set(0);
    self->stats_.in_flight_records.set(0);
    self->stats_.dropped_shutdown.inc(lost);
    stopped->set_value();
  });
  future.wait();
  transport_->cancelAll(std::chrono::seconds(2));
}

void OtlpSink::visitStats(const StatVisitor& visit) const {
  stats_.queued.set(static_cast<int64_t>(queue_.size()));
  stats_.connection_state.set(transport_->connectionState());
  const OtlpSinkStats& stats = stats_;
  MESHLOG_OTLP_SINK_STATS(MESHLOG_VISIT_STAT_COUNTER, MESHLOG_VISIT_STAT_GAUGE)
}

}  // namespace meshlog::sink
