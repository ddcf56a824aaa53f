#include "forge/test/process.h"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "forge/test/temp_dir.h"

namespace forge::test {

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

ProcessResult run_shell(const std::string& command, const std::string& input) {
  TempDir io;  // stdin/stdout/stderr through files: no pipe deadlocks on large outputs
  std::ofstream(io / "in", std::ios::binary) << input;
  const std::string full = "( " + command + " ) <" + shell_quote((io / "in").string()) + " >" +
                           shell_quote((io / "out").string()) + " 2>" +
                           shell_quote((io / "err").string());
  const int status = std::system(full.c_str());
  ProcessResult result;
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = io.read_file("out");
  result.err = io.read_file("err");
  return result;
}

}  // namespace forge::test
