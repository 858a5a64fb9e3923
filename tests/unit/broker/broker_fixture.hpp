#pragma once
// A broker on a fresh temporary root with a fake clock, plus helpers to register sessions
// whose liveness is this test process (alive) or a pid that does not exist (dead).
#include <gtest/gtest.h>
#include <unistd.h>

#include "c2c/broker/broker.hpp"
#include "support/temp_dir.hpp"

namespace c2c::broker::test_support {

// Beyond pid_max on Linux (4194304): never a live process.
inline constexpr long long kDeadPid = 99'999'999;

class BrokerTest : public ::testing::Test {
 protected:
  BrokerTest() : broker_(dir_.path() / "broker", clock_) {}

  Registration reg(const std::string& alias, const std::string& sid,
                   std::optional<long long> pid = static_cast<long long>(::getpid()),
                   bool guard = true) {
    RegisterRequest req;
    req.alias = alias;
    req.session_id = sid;
    req.pid = pid;
    req.guard_alias = guard;
    auto r = broker_.register_session(req);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? r->registration : Registration{};
  }

  std::vector<Message> poll(const std::string& sid) {
    auto r = broker_.poll(sid);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : std::vector<Message>{};
  }

  std::filesystem::path root() const { return broker_.root(); }

  c2c::test::TempDir dir_{"c2c-broker"};
  FakeClock clock_;
  Broker broker_;
};

}  // namespace c2c::broker::test_support
