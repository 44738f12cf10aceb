#include "policy/load.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <system_error>

namespace meshlog::policy {
namespace {

namespace fs = std::filesystem;

bool HasYamlExtension(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

DecodeResult LoadFile(const std::string& path, uint64_t first_creation_order) {
  DecodeResult result;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec(errno, std::generic_category());
    result.errors.push_back({path, 0, 0, "cannot read file: " + ec.message()});
    return result;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    result.errors.push_back({path, 0, 0, "cannot read file"});
    return result;
  }
  return DecodeYaml(text, path, first_creation_order);
}

}  // namespace

DecodeResult LoadPath(const std::string& path, uint64_t first_creation_order) {
  if (path == "-") {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return DecodeYaml(text, "-", first_creation_order);
  }
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    DecodeResult r;
    r.errors.push_back({path, 0, 0, "cannot read: " + (ec ? ec.message() : std::string("no such file or directory"))});
    return r;
  }
  if (!fs::is_directory(st)) return LoadFile(path, first_creation_order);

  std::vector<std::string> files;
  DecodeResult result;
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec) && HasYamlExtension(it->path())) files.push_back(it->path().string());
  }
  if (ec) result.errors.push_back({path, 0, 0, "cannot list directory: " + ec.message()});
  std::sort(files.begin(), files.end());
  uint64_t order = first_creation_order;
  for (const std::string& f : files) {
    DecodeResult r = LoadFile(f, order);
    order += r.documents.size();
    result.Append(std::move(r));
  }
  return result;
}

DecodeResult LoadPaths(const std::vector<std::string>& paths) {
  DecodeResult result;
  uint64_t order = 0;
  for (const std::string& p : paths) {
    DecodeResult r = LoadPath(p, order);
    order += r.documents.size();
    result.Append(std::move(r));
  }
  return result;
}

}  // namespace meshlog::policy
