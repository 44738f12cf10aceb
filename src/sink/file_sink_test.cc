#include "sink/file_sink.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "sink/access_log_impl.h"

namespace meshlog::sink {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FileSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("meshlog_file_sink_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

FileSinkOptions SlowTimer() {
  FileSinkOptions o;
  o.flush_interval = milliseconds(60'000);
  return o;
}

TEST_F(FileSinkTest, WritesRecordsInOrderOnFlush) {
  FileSink sink((dir_ / "a.log").string(), SlowTimer());
  EXPECT_TRUE(sink.push("one\n"));
  EXPECT_TRUE(sink.push("two\n"));
  EXPECT_EQ(sink.stats().queued.value(), 2);
  EXPECT_EQ(ReadAll(dir_ / "a.log"), "");  // buffered, not yet written
  sink.FlushAndWait();
  EXPECT_EQ(ReadAll(dir_ / "a.log"), "one\ntwo\n");
  EXPECT_EQ(sink.stats().written.value(), 2u);
  EXPECT_EQ(sink.stats().bytes.value(), 8u);
  EXPECT_EQ(sink.stats().flushes.value(), 1u);  // one write() for both records
  EXPECT_EQ(sink.stats().queued.value(), 0);
  EXPECT_EQ(sink.stats().dropped.value(), 0u);
}

TEST_F(FileSinkTest, AppendsToExistingFile) {
  { std::ofstream(dir_ / "a.log") << "old\n"; }
  FileSink sink((dir_ / "a.log").string(), SlowTimer());
  sink.push("new\n");
  sink.FlushAndWait();
  EXPECT_EQ(ReadAll(dir_ / "a.log"), "old\nnew\n");
}

TEST_F(FileSinkTest, FlushesWhenBufferReachesThreshold) {
  FileSinkOptions o = SlowTimer();
  o.flush_bytes = 16;
  FileSink sink((dir_ / "a.log").string(), o);
  sink.push("0123456789\n");
  sink.push("0123456789\n");  // 22 bytes >= 16: the writer wakes without a timer or request
  for (int i = 0; i < 200 && sink.stats().written.value() < 2; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(sink.stats().written.value(), 2u);
  EXPECT_EQ(ReadAll(dir_ / "a.log"), "0123456789\n0123456789\n");
}

TEST_F(FileSinkTest, FlushesOnTimer) {
  FileSinkOptions o;
  o.flush_interval = milliseconds(50);
  FileSink sink((dir_ / "a.log").string(), o);
  sink.push("x\n");
  for (int i = 0; i < 200 && sink.stats().written.value() < 1; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(ReadAll(dir_ / "a.log"), "x\n");
  EXPECT_GE(sink.stats().flushed_by_timer.value(), 1u);
}

TEST_F(FileSinkTest, DropsAndCountsBeyondBound) {
  FileSinkOptions o = SlowTimer();
  o.flush_bytes = 1 << 20;
  o.max_buffered_bytes = 10;
  FileSink sink((dir_ / "a.log").string(), o);
  EXPECT_TRUE(sink.push("12345\n"));   // 6 bytes
  EXPECT_FALSE(sink.push("12345\n"));  // would be 12 > 10
  EXPECT_EQ(sink.stats().dropped.value(), 1u);
  sink.FlushAndWait();
  EXPECT_EQ(ReadAll(dir_ / "a.log"), "12345\n");
  EXPECT_TRUE(sink.push("abc\n"));  // room again after the flush
}

TEST_F(FileSinkTest, DiskFullIsCountedAndNeverCrashes) {
  FileSink sink("/dev/full", SlowTimer());
  sink.push("a\n");
  sink.push("b\n");
  sink.FlushAndWait();
  EXPECT_EQ(sink.stats().write_errors.value(), 1u);
  EXPECT_EQ(sink.stats().errors.value(), 1u);
  EXPECT_EQ(sink.stats().dropped.value(), 2u);
  EXPECT_EQ(sink.stats().written.value(), 0u);
  EXPECT_NE(sink.last_error().find("No space left"), std::string::npos) << sink.last_error();
}

TEST_F(FileSinkTest, UnwritablePathIsReportedAndLoggingResumes) {
  const fs::path sub = dir_ / "missing";
  FileSink sink((sub / "a.log").string(), SlowTimer());
  EXPECT_GE(sink.stats().open_errors.value(), 1u);
  EXPECT_NE(sink.last_error().find("No such file"), std::string::npos) << sink.last_error();
  sink.push("lost\n");
  sink.FlushAndWait();
  EXPECT_EQ(sink.stats().dropped.value(), 1u);
  fs::create_directories(sub);  // the cause goes away
  sink.push("kept\n");
  sink.FlushAndWait();
  EXPECT_EQ(ReadAll(sub / "a.log"), "kept\n");
  EXPECT_EQ(sink.stats().written.value(), 1u);
  EXPECT_EQ(sink.last_error(), "");
}

TEST_F(FileSinkTest, ReopensWhenRenamedAway) {
  FileSink sink((dir_ / "a.log").string(), SlowTimer());
  sink.push("before\n");
  sink.FlushAndWait();
  fs::rename(dir_ / "a.log", dir_ / "a.log.1");  // logrotate without a signal
  sink.push("after\n");
  sink.FlushAndWait();
  EXPECT_EQ(ReadAll(dir_ / "a.log.1"), "before\n");
  EXPECT_EQ(ReadAll(dir_ / "a.log"), "after\n");
  EXPECT_EQ(sink.stats().reopens.value(), 1u);
}

TEST_F(FileSinkTest, RealLogrotateWithoutSignalIsFollowed) {
  // logrotate's default (rename + create) with no postrotate signal: the sink notices the rename.
  const fs::path log = dir_ / "access.log";
  {
    std::ofstream conf(dir_ / "logrotate.conf");
    conf << log.string() << " {\n  rotate 2\n  create 0644\n  missingok\n}\n";
  }
  FileSink sink(log.string(), SlowTimer());
  sink.push("first\n");
  sink.FlushAndWait();
  const std::string cmd = "logrotate -f -s " + (dir_ / "state").string() + " " + (dir_ / "logrotate.conf").string() +
                          " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[512];
  std::string out;
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  ASSERT_EQ(::pclose(p), 0) << out;
  sink.push("second\n");
  sink.FlushAndWait();
  EXPECT_EQ(ReadAll(dir_ / "access.log.1"), "first\n");
  EXPECT_EQ(ReadAll(log), "second\n");
  EXPECT_EQ(sink.stats().reopens.value(), 1u);
  EXPECT_EQ(sink.stats().dropped.value(), 0u);
}

TEST_F(FileSinkTest, ReopenOnRequest) {
  FileSink sink((dir_ / "a.log").string(), SlowTimer());
  sink.push("before\n");
  sink.FlushAndWait();
  // copytruncate-like rotation keeps the inode; an explicit reopen still reopens.
  fs::rename(dir_ / "a.log", dir_ / "a.log.1");
  { std::ofstream(dir_ / "a.log"); }
  sink.reopen();
  sink.push("after\n");
  sink.FlushAndWait();
  EXPECT_EQ(ReadAll(dir_ / "a.log"), "after\n");
  EXPECT_EQ(ReadAll(dir_ / "a.log.1"), "before\n");
  EXPECT_GE(sink.stats().reopens.value(), 1u);
}

TEST_F(FileSinkTest, ShutdownWritesWhatIsBufferedAndRefusesAfter) {
  auto sink = std::make_unique<FileSink>((dir_ / "a.log").string(), SlowTimer());
  sink->push("last\n");
  sink->shutdown(milliseconds(1000));
  EXPECT_EQ(ReadAll(dir_ / "a.log"), "last\n");
  EXPECT_FALSE(sink->push("late\n"));
  EXPECT_EQ(sink->stats().dropped.value(), 1u);
}

TEST_F(FileSinkTest, VisitStatsNamesEveryStat) {
  FileSink sink((dir_ / "a.log").string(), SlowTimer());
  sink.push("x\n");
  std::map<std::string, double> seen;
  sink.visitStats([&](std::string_view name, StatKind, double v) { seen[std::string(name)] = v; });
  for (const char* n : {"written", "dropped", "bytes", "reopens", "errors", "queued", "queued_bytes"}) {
    EXPECT_TRUE(seen.count(n)) << n;
  }
  EXPECT_EQ(seen["queued"], 1);
  EXPECT_EQ(sink.type(), "file");
  EXPECT_EQ(sink.destination(), (dir_ / "a.log").string());
}

TEST_F(FileSinkTest, RegistrySharesOneWriterPerPath) {
  FileSinkRegistry registry;
  auto a = registry.Get((dir_ / "a.log").string(), SlowTimer());
  auto b = registry.Get((dir_ / "." / "a.log").string(), SlowTimer());
  auto c = registry.Get((dir_ / "c.log").string(), SlowTimer());
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), c.get());
  EXPECT_EQ(registry.All().size(), 2u);
  a->push("1\n");
  b->push("2\n");
  a->FlushAndWait();
  EXPECT_EQ(ReadAll(dir_ / "a.log"), "1\n2\n");
}

TEST_F(FileSinkTest, ConcurrentPushersLoseNothing) {
  FileSink sink((dir_ / "a.log").string(), SlowTimer());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) sink.push("thread" + std::to_string(t) + " record\n");
    });
  }
  for (auto& th : threads) th.join();
  sink.FlushAndWait();
  EXPECT_EQ(sink.stats().written.value(), 4000u);
  const std::string all = ReadAll(dir_ / "a.log");
  EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 4000);
}

// A formatter for tests: prints the response code and the path header.
class CodeFormatter : public format::Formatter {
 public:
  void format(const format::StreamInfo& info, std::string& out) const override {
    out += std::to_string(info.response_code.value_or(0));
    out += '\n';
  }
};

TEST_F(FileSinkTest, FormattedAccessLogFormatsAndPushes) {
  auto sink = std::make_shared<FileSink>((dir_ / "a.log").string(), SlowTimer());
  FormattedAccessLog log(std::make_shared<CodeFormatter>(), sink);
  format::StreamInfo info;
  info.response_code = 200;
  log.log(info);
  info.response_code = 503;
  log.log(info);
  sink->FlushAndWait();
  EXPECT_EQ(ReadAll(dir_ / "a.log"), "200\n503\n");
}

}  // namespace
}  // namespace meshlog::sink
