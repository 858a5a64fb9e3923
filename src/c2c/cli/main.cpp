#include "c2c/cli/app.hpp"

int main(int argc, char** argv) {
  return c2c::cli::run(argc, argv);
}
