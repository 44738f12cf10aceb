#include "sink/io_thread.h"

#include <pthread.h>

namespace meshlog::sink {

IoThread::IoThread(std::string name) : context_(std::make_shared<boost::asio::io_context>(1)) {
  work_.emplace(boost::asio::make_work_guard(*context_));
  thread_ = std::thread([ctx = context_] { ctx->run(); });
  pthread_setname_np(thread_.native_handle(), name.substr(0, 15).c_str());
}

IoThread::~IoThread() {
  work_.reset();
  context_->stop();
  if (!thread_.joinable()) return;
  if (std::this_thread::get_id() == thread_.get_id()) {
    thread_.detach();
  } else {
    thread_.join();
  }
}

}  // namespace meshlog::sink
