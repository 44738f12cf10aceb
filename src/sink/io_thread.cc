#include "sink/io_thread.h"

#include <pthread.h>

namespace meshlog::sink {

IoThread::IoThread(std::string name) : work_(boost::asio::make_work_guard(context_)) {
  thread_ = std::thread([this] { context_.run(); });
  pthread_setname_np(thread_.native_handle(), name.substr(0, 15).c_str());
}

IoThread::~IoThread() {
  work_.reset();
  context_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace meshlog::sink
