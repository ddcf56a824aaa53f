#pragma once
// `forge ninja settle` (and `explain`) as one JSON request: the agent's socket method
// `ninja.settle` (README.md, "Agent socket protocol"). The agent knows no build tool;
// `forge agent` hands it this function.
//
//   params  {"dir": ABS (the build dir), "dry_run": false (optional: decide, write nothing,
//            as `forge ninja explain`), "index_root": ABS (optional: as --index-root)}
//   result  {"edges", "settled", "dirty", "hashed", "from_stamp", "dry_run",
//            "stamp_sources", "stamp_sources_stated", "stamp_via_index", "stamp_fallback"
//            (the clean stamp's check: settle.h),
//            "details": [{"output", "verdict": "settled"|"run", "cause": "content"|"mtime",
//                         "reason", "blocker"?}]}
// A settle takes the build dir's BuildDirLock (driver.h) as `forge ninja settle` does, so it
// waits for a `forge ninja` running there; a dry run takes none. Bad params are Validation
// errors naming the param; settle()'s errors pass through.
// Thread-safe (each call has its own PlatformIO); blocking.

#include <nlohmann/json.hpp>

#include "forge/core/support/error.h"
#include "forge/ninja/settle.h"

namespace forge::ninja {

// `open_indexes`: the scan indexes this process holds open (the agent's workspaces), which
// the clean stamp asks what changed (source_index.h); empty: every source path is stat'ed.
Result<nlohmann::json> answer_settle_request(const nlohmann::json& params,
                                             const OpenIndexLookup& open_indexes = {});

// The result object above, of a report.
nlohmann::json settle_report_to_json(const SettleReport& report, bool dry_run);

}  // namespace forge::ninja
