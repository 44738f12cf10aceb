#include "sink/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace meshlog::sink {
namespace {

TEST(BoundedQueue, FifoAndWasEmptySignal) {
  BoundedQueue<std::string> q(10, 1000);
  EXPECT_EQ(q.push("a", 1), PushResult::kOkWasEmpty);
  EXPECT_EQ(q.push("b", 1), PushResult::kOk);
  std::vector<std::string> out;
  EXPECT_EQ(q.popAll(out), 2u);
  EXPECT_EQ(out, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(q.push("c", 1), PushResult::kOkWasEmpty);
}

TEST(BoundedQueue, RefusesWhenItemLimitReached) {
  BoundedQueue<int> q(2, 1000);
  EXPECT_TRUE(Accepted(q.push(1, 1)));
  EXPECT_TRUE(Accepted(q.push(2, 1)));
  EXPECT_EQ(q.push(3, 1), PushResult::kFull);
  std::vector<int> out;
  q.popAll(out);
  EXPECT_EQ(out, (std::vector<int>{1, 2}));  // the refused item was not queued
  EXPECT_TRUE(Accepted(q.push(3, 1)));
}

TEST(BoundedQueue, RefusesWhenByteLimitReached) {
  BoundedQueue<int> q(100, 10);
  EXPECT_TRUE(Accepted(q.push(1, 6)));
  EXPECT_EQ(q.push(2, 5), PushResult::kFull);
  EXPECT_TRUE(Accepted(q.push(3, 4)));
  EXPECT_EQ(q.bytes(), 10u);
  EXPECT_EQ(q.push(4, 11), PushResult::kFull);  // alone larger than the limit
}

TEST(BoundedQueue, PopBytesTakesAtLeastOneAndStopsAtBudget) {
  BoundedQueue<int> q(100, 1000);
  q.push(1, 50);
  q.push(2, 30);
  q.push(3, 30);
  std::vector<int> out;
  EXPECT_EQ(q.popBytes(out, 10), 1u);  // one item even if larger than the budget
  EXPECT_EQ(out, (std::vector<int>{1}));
  out.clear();
  EXPECT_EQ(q.popBytes(out, 59), 1u);
  EXPECT_EQ(q.popBytes(out, 60), 1u);
  EXPECT_EQ(out, (std::vector<int>{2, 3}));
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(q.popBytes(out, 60), 0u);
}

TEST(BoundedQueue, CloseRefusesButKeepsQueuedItems) {
  BoundedQueue<int> q(10, 100);
  q.push(1, 1);
  q.close();
  EXPECT_EQ(q.push(2, 1), PushResult::kClosed);
  std::vector<int> out;
  EXPECT_EQ(q.popAll(out), 1u);
}

TEST(BoundedQueue, ManyProducersNothingLostOrDuplicated) {
  BoundedQueue<int> q(1 << 20, 1 << 30);
  constexpr int kThreads = 4, kPer = 20000;
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) accepted += Accepted(q.push(t * kPer + i, 1)) ? 1 : 0;
    });
  }
  std::vector<int> out;
  while (static_cast<int>(out.size()) < kThreads * kPer) q.popAll(out);
  for (auto& th : threads) th.join();
  EXPECT_EQ(accepted.load(), kThreads * kPer);
  std::vector<bool> seen(kThreads * kPer);
  for (int v : out) {
    EXPECT_FALSE(seen[v]);
    seen[v] = true;
  }
  // Per-producer order is preserved.
  std::vector<int> last(kThreads, -1);
  for (int v : out) {
    EXPECT_GT(v, last[v / kPer]);
    last[v / kPer] = v;
  }
}

}  // namespace
}  // namespace meshlog::sink

namespace meshlog::sink {
namespace {

TEST(ByteChunkQueue, PacksRecordsIntoChunksInOrder) {
  ByteChunkQueue q(100, 1000, /*chunk_bytes=*/6);
  EXPECT_EQ(q.push("a\n"), PushResult::kOkWasEmpty);
  EXPECT_EQ(q.push("bb\n"), PushResult::kOk);
  EXPECT_EQ(q.push("cc\n"), PushResult::kOk);       // 5 + 3 > 6: new chunk
  EXPECT_EQ(q.push("0123456789\n"), PushResult::kOk);  // larger than a chunk: a chunk of its own
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.bytes(), 19u);
  ByteChunkQueue::Chunk c;
  ASSERT_TRUE(q.pop(c));
  EXPECT_EQ(c.data, "a\nbb\n");
  EXPECT_EQ(c.records, 2u);
  ASSERT_TRUE(q.pop(c));
  EXPECT_EQ(c.data, "cc\n");
  ASSERT_TRUE(q.pop(c));
  EXPECT_EQ(c.data, "0123456789\n");
  EXPECT_FALSE(q.pop(c));
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(ByteChunkQueue, BoundedByRecordsAndBytesAndClosable) {
  ByteChunkQueue q(2, 10, 100);
  EXPECT_TRUE(Accepted(q.push("12345\n")));
  EXPECT_EQ(q.push("12345\n"), PushResult::kFull);  // 12 bytes > 10
  EXPECT_TRUE(Accepted(q.push("1\n")));
  EXPECT_EQ(q.push("1\n"), PushResult::kFull);  // 3 records > 2
  q.close();
  ByteChunkQueue::Chunk c;
  ASSERT_TRUE(q.pop(c));
  EXPECT_EQ(c.data, "12345\n1\n");
  EXPECT_EQ(q.push("x\n"), PushResult::kClosed);
}

TEST(ByteChunkQueue, ManyProducersNoRecordTornOrLost) {
  ByteChunkQueue q(1 << 20, 1 << 28, 4096);
  constexpr int kThreads = 4, kPer = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) EXPECT_TRUE(Accepted(q.push(std::to_string(t * kPer + i) + "\n")));
    });
  }
  std::string all;
  uint64_t records = 0;
  ByteChunkQueue::Chunk c;
  while (records < kThreads * kPer) {
    if (q.pop(c)) {
      all += c.data;
      records += c.records;
    }
  }
  for (auto& th : threads) th.join();
  std::vector<bool> seen(kThreads * kPer);
  size_t start = 0;
  int lines = 0;
  for (size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1, ++lines) {
    const int v = std::stoi(all.substr(start, nl - start));
    EXPECT_FALSE(seen[v]);
    seen[v] = true;
  }
  EXPECT_EQ(lines, kThreads * kPer);
}

}  // namespace
}  // namespace meshlog::sink
