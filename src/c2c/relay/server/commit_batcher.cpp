#include "c2c/relay/server/commit_batcher.hpp"

#include <utility>

namespace c2c::relay::server {

void CommitBatcher::submit(Send send) {
  ++submitted_;
  auto answer = [this, send = std::move(send)](const Result<void>& committed) {
    ++answers_;  // before send: whoever sees the answer also sees it counted
    send(committed);
  };
  if (stopped_) {
    answer(store_.commit());
    return;
  }
  store_.when_durable(std::move(answer));
}

}  // namespace c2c::relay::server
