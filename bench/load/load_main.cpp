// c2c_load entry point: parse flags, run, print the report (text or --json).

#include <cstdio>
#include <iostream>

#include "load.hpp"

int main(int argc, char** argv) {
  auto options = c2c::load::parse_options(argc, argv);
  if (!options) {
    if (options.error().message.empty()) return 0;  // --help
    std::cerr << "c2c_load: " << options.error().message << "\n";
    return 2;
  }
  auto result = c2c::load::run_load(*options);
  std::cout << (options->json ? c2c::load::format_json(*options, result)
                              : c2c::load::format_text(*options, result))
            << std::endl;
  uint64_t ok = result.totals.latencies_us.size();
  return ok > 0 ? 0 : 1;
}
