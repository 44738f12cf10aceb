#include "sink/otlp_plugin_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace meshlog::sink {
namespace {

using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "meshlog-plugin-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string LoadError(const std::vector<std::string>& dirs) {
  try {
    LoadOtlpPlugin(dirs);
  } catch (const OtlpPluginError& e) {
    return e.what();
  }
  return "";
}

TEST(OtlpPluginLoader, MissingPluginNamesEveryPathTriedWithDlerror) {
  TempDir a, b;
  const std::string err = LoadError({a.path(), b.path()});
  EXPECT_THAT(err, HasSubstr("OpenTelemetry backend needs the plugin meshlog-otlp.so"));
  EXPECT_THAT(err, HasSubstr("MESHLOG_PLUGIN_DIR"));
  EXPECT_THAT(err, HasSubstr(a.path() + "/meshlog-otlp.so: cannot open shared object file"));
  EXPECT_THAT(err, HasSubstr(b.path() + "/meshlog-otlp.so: "));
}

TEST(OtlpPluginLoader, FileThatIsNotALibraryIsReportedWithDlerror) {
  TempDir d;
  std::ofstream(d.path() + "/meshlog-otlp.so") << std::string(256, 'x');  // longer than an ELF header
  const std::string err = LoadError({d.path()});
  EXPECT_THAT(err, HasSubstr(d.path() + "/meshlog-otlp.so: "));
  EXPECT_THAT(err, HasSubstr("invalid ELF header"));
}

TEST(OtlpPluginLoader, RefusesAPluginOfAnotherVersion) {
  const std::string err = LoadError({MESHLOG_TEST_WRONG_ABI_PLUGIN_DIR});
  EXPECT_THAT(err, HasSubstr("version mismatch: the plugin is 0.0.0+0000000000000000, this meshlog needs " +
                             std::string(OtlpPluginAbi())));
}

TEST(OtlpPluginLoader, AbiIsProjectVersionPlusHash) {
  const std::string abi = OtlpPluginAbi();
  const auto plus = abi.find('+');
  ASSERT_NE(plus, std::string::npos);
  EXPECT_EQ(abi.substr(0, plus), MESHLOG_TEST_PROJECT_VERSION);
  EXPECT_EQ(abi.size() - plus - 1, 16u);
}

TEST(OtlpPluginLoader, FallsThroughToTheNextDirectoryAndLoadsTheRealPlugin) {
  TempDir empty;
  const OtlpPluginApi& api = LoadOtlpPlugin({empty.path(), MESHLOG_TEST_WRONG_ABI_PLUGIN_DIR, MESHLOG_TEST_PLUGIN_DIR});
  EXPECT_STREQ(api.abi, OtlpPluginAbi());
  std::string error;
  OtlpSinkConfig bad;
  bad.endpoint = "host:99999";
  EXPECT_EQ(api.create_sink(bad, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("endpoint must be host[:port]"));

  // A sink made by the plugin, used through the OtelSink interface as the binary uses it. No
  // collector listens: the record is queued, then counted as dropped at shutdown.
  OtlpSinkConfig cfg;
  cfg.protocol = OtlpProtocol::kHttp;
  cfg.endpoint = "127.0.0.1:24001";
  cfg.path = "/otel/v1/logs";
  OtelSinkPtr sink = api.create_sink(cfg, &error);
  ASSERT_NE(sink, nullptr) << error;
  EXPECT_EQ(sink->type(), "otlp");
  EXPECT_EQ(sink->destination(), "127.0.0.1:24001/otel/v1/logs");
  format::OtelRecord r;
  r.body = format::OtelValue::String("hello");
  EXPECT_TRUE(sink->push(std::move(r)));
  sink->shutdown(std::chrono::milliseconds(200));
  double pushed = -1, dropped = -1;
  sink->visitStats([&](std::string_view name, StatKind, double v) {
    if (name == "records_pushed") pushed = v;
    if (name == "dropped_shutdown") dropped = v;
  });
  EXPECT_EQ(pushed, 1);
  EXPECT_EQ(dropped, 1);
}

TEST(OtlpPluginLoader, SearchOrderIsEnvThenExeDirThenLibMeshlog) {
  ::setenv("MESHLOG_PLUGIN_DIR", "/opt/plugins", 1);
  const std::string exe_dir = std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
  const std::vector<std::string> dirs = OtlpPluginSearchDirs();
  ASSERT_EQ(dirs.size(), 3u);
  EXPECT_EQ(dirs[0], "/opt/plugins");
  EXPECT_EQ(dirs[1], exe_dir);
  EXPECT_EQ(dirs[2], (std::filesystem::path(exe_dir).parent_path() / "lib" / "meshlog").string());
  ::setenv("MESHLOG_PLUGIN_DIR", "", 1);
  EXPECT_EQ(OtlpPluginSearchDirs().size(), 2u);
  ::unsetenv("MESHLOG_PLUGIN_DIR");
}

TEST(OtlpPluginLoader, RegistryReportsAMissingPluginAndRegistersNothing) {
  TempDir empty;
  ::setenv("MESHLOG_PLUGIN_DIR", empty.path().c_str(), 1);
  // The test binary's own directory and ../lib/meshlog hold no plugin either.
  NetSinkRegistry reg(nullptr, PluginOtlpSinkFactory());
  OtlpSinkConfig cfg;
  cfg.endpoint = "127.0.0.1:24002";
  try {
    reg.otlp(cfg);
    ADD_FAILURE() << "expected OtlpPluginError";
  } catch (const OtlpPluginError& e) {
    EXPECT_THAT(e.what(), HasSubstr(empty.path() + "/meshlog-otlp.so: "));
  }
  int n = 0;
  reg.forEach([&](Sink&) { ++n; });
  EXPECT_EQ(n, 0);
  ::unsetenv("MESHLOG_PLUGIN_DIR");
}

TEST(OtlpPluginLoader, RegistryWithoutFactoryRefusesOtlp) {
  NetSinkRegistry reg;
  OtlpSinkConfig cfg;
  cfg.endpoint = "127.0.0.1:24003";
  EXPECT_THROW(reg.otlp(cfg), std::invalid_argument);
}

}  // namespace
}  // namespace meshlog::sink
