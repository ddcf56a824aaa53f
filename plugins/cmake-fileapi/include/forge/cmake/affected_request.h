#pragma once
// `forge cmake affected` as one JSON request: the agent's socket method `cmake.affected`
// (README.md, "Agent socket protocol"). The agent knows no build tool; `forge agent` hands
// it this function.
//
//   params  {"build_dir": ABS, "files": [PATH...], "config": "Release" (optional),
//            "reconfigure": false (optional), "no_cache": false (optional)}
//   result  the object `forge cmake affected -B BUILD --files ... --json` prints
//           (affected_to_json, model_json.h) plus "reconfigured"
// A relative path in "files" is relative to the model's source dir (the client's cwd is not
// known here). Bad params are Validation errors naming the param; errors of load_model and
// reconfigure_and_compare pass through.
// Thread-safe: calls are serialized process-wide (loader.h: the model cache's LMDB
// environment is opened once per process, one thread at a time). Blocking: may run cmake,
// ninja and ctest.

#include <nlohmann/json.hpp>

#include "forge/core/support/error.h"

namespace forge::cmake {

Result<nlohmann::json> answer_affected_request(const nlohmann::json& params);

}  // namespace forge::cmake
