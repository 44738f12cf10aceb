#include "sink/access_log_impl.h"

#include <string>

namespace meshlog::sink {

void FormattedAccessLog::log(const format::StreamInfo& info) {
  thread_local std::string buffer;
  buffer.clear();  // keeps capacity
  formatter_->format(info, buffer);
  if (buffer.empty()) return;
  sink_->push(buffer);
  // A pathological record must not pin a huge buffer for the thread's lifetime.
  if (buffer.capacity() > 1024 * 1024) std::string().swap(buffer);
}

void OtelAccessLog::log(const format::StreamInfo& info) {
  format::OtelRecord record;
  template_->Render(info, record);
  sink_->push(std::move(record));
}

}  // namespace meshlog::sink
