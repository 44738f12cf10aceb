// Zero heap allocations per record in steady state (issue 3). This test binary replaces the
// global operator new with a counting one.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "format/bench_util.h"
#include "format/formatter.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace meshlog::format {
namespace {

// Renders `n` records after a warm-up and returns the allocations made while doing so.
uint64_t AllocationsPerRun(const FormatterPtr& f, const StreamInfo& info, int n) {
  std::string out;
  out.reserve(4096);
  for (int i = 0; i < 3; ++i) {  // warm-up: thread-local scratch, date cache
    out.clear();
    f->format(info, out);
  }
  const uint64_t before = g_allocations.load();
  for (int i = 0; i < n; ++i) {
    out.clear();
    f->format(info, out);
  }
  return g_allocations.load() - before;
}

TEST(AllocationTest, CounterWorks) {
  const uint64_t before = g_allocations.load();
  auto* p = new std::string(100, 'x');
  EXPECT_GT(g_allocations.load(), before);
  delete p;
}

TEST(AllocationTest, PlainDefaultHttp) {
  bench::BenchRecord r;
  auto f = CompilePlain(BindKumaPlaceholders(DefaultHttpFormat(), bench::BenchKuma()) + "\n", OmitEmptyValues::no);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(AllocationsPerRun(f.value(), r.info, 1000), 0u);
}

TEST(AllocationTest, PlainDefaultTcp) {
  const StreamInfo info = bench::BenchTcpInfo();
  auto f = CompilePlain(BindKumaPlaceholders(DefaultTcpFormat(), bench::BenchKuma()) + "\n", OmitEmptyValues::yes);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(AllocationsPerRun(f.value(), info, 1000), 0u);
}

TEST(AllocationTest, PlainManyOperators) {
  bench::BenchRecord r;
  r.info.response_flags.set(ResponseFlag::UT);
  r.info.response_flags.set(ResponseFlag::URX);
  r.info.requested_server_name = "bad sni";
  r.req.add("x-evil", "a\r\nb");
  auto f = CompilePlain(
      "%RESPONSE_FLAGS_LONG% %UPSTREAM_HOST% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %UPSTREAM_LOCAL_PORT% "
      "%QUERY_PARAM(fields)% %PATH(NQ)% %REQUESTED_SERVER_NAME% %REQ(x-evil)% %START_TIME(%s.%3f)% "
      "%COMMON_DURATION(DS_RX_BEG:DS_RX_END:us)% %UNIQUE_ID% %GRPC_STATUS%\n",
      OmitEmptyValues::no);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(AllocationsPerRun(f.value(), r.info, 1000), 0u);
}

TEST(AllocationTest, CustomTimeFormatCachedPerSecond) {
  bench::BenchRecord r;
  auto f = CompilePlain("%START_TIME(%Y-%m-%dT%H:%M:%S.%3f%z)% %START_TIME_LOCAL(%A, %d %B %Y %H:%M:%S)%\n",
                        OmitEmptyValues::no);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(AllocationsPerRun(f.value(), r.info, 1000), 0u);
}

TEST(AllocationTest, Json10Fields) {
  bench::BenchRecord r;
  auto f = CompileJson(bench::BenchJsonFields(), OmitEmptyValues::no);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(AllocationsPerRun(f.value(), r.info, 1000), 0u);
}

TEST(AllocationTest, JsonOmitEmptyTcp) {
  const StreamInfo info = bench::BenchTcpInfo();
  auto f = CompileJson(bench::BenchJsonFields(), OmitEmptyValues::yes);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(AllocationsPerRun(f.value(), info, 1000), 0u);
}

}  // namespace
}  // namespace meshlog::format
