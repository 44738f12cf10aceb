// File: load.h
//
// The only I/O of the policy library: reading YAML from files, directory trees and stdin, then
// decoding it with DecodeYaml (decode.h). Problems reading a source become SourceErrors (they never
// throw).
//
// PATH semantics (as `meshlog validate PATH...` uses them):
//   "-"        stdin (named "-" in locations and errors)
//   a file     decoded whatever its extension
//   a directory every regular file ending in .yaml, .yml or .json below it (recursively), in
//              sorted path order; other files are ignored
//
// Example:
//   DecodeResult r = LoadPaths({"examples/universal"});
//   for (const SourceError& e : r.errors) std::cerr << e.ToString() << "\n";
//   ResourceSet world = CollectResources(r);
#pragma once

#include <string>
#include <vector>

#include "policy/decode.h"

namespace meshlog::policy {

// Loads one PATH. creation_order of the resources continues from `first_creation_order`.
DecodeResult LoadPath(const std::string& path, uint64_t first_creation_order = 0);

// Loads every PATH in order (creation_order increases across all of them).
DecodeResult LoadPaths(const std::vector<std::string>& paths);

}  // namespace meshlog::policy
