#include "c2c/mcp/stdio_server.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "c2c/core/version.hpp"
#include "c2c/mcp/push_watcher.hpp"
#include "c2c/mcp/server.hpp"
#include "c2c/mcp/transport.hpp"

namespace c2c::mcp {

namespace {

void log_line(int fd, const std::string& text) {
  const std::string line = "c2c mcp: " + text + "\n";
  (void)!::write(fd, line.data(), line.size());
}

}  // namespace

int run_stdio_server(const StdioOptions& options, const EnvLookup& env) {
  const SessionConfig config = SessionConfig::from_env(env);
  broker::Broker broker(options.root);
  SessionState session(config.env_session_id);
  log_line(options.log_fd, std::string("c2c ") + kVersion + " serving MCP on stdio; broker " +
                               options.root.string());
  for (const auto& line : auto_register_and_join(broker, config, session)) {
    log_line(options.log_fd, line);
  }

  Server server(broker, config, session);
  LineWriter out(options.out_fd);

  // Push: the watcher thread drains the inbox and writes notifications through the same
  // LineWriter as responses, so lines never interleave.
  std::unique_ptr<PushWatcher> watcher;
  if (config.channel_delivery) {
    watcher = std::make_unique<PushWatcher>(
        options.root, [&session] { return session.get(); },
        [&server, &out, &options] {
          auto pushed = server.drain_push([&out](const std::vector<std::string>& lines) {
            for (const auto& l : lines) out.write_line(l);
          });
          if (!pushed) log_line(options.log_fd, "push failed: " + pushed.error().message);
        });
    if (auto started = watcher->start(); !started) {
      log_line(options.log_fd, "push notifications disabled: " + started.error().message);
      watcher.reset();
    } else {
      server.on_push_ready([w = watcher.get()] { w->kick(); });
      session.on_change([w = watcher.get()] { w->kick(); });
    }
  }

  // Blocking tools (wait_for_message) run on their own threads and write their response
  // through the same LineWriter; the request loop keeps answering meanwhile.
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Worker> workers;
  auto reap = [&workers](bool all) {
    for (auto it = workers.begin(); it != workers.end();) {
      if (all || it->done->load()) {
        it->thread.join();
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
  };
  server.set_async_runner([&](Server::Job job) {
    reap(false);
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers.push_back({std::thread([job = std::move(job), done, &out] {
                         if (auto line = job()) out.write_line(*line);
                         done->store(true);
                       }),
                       done});
  });
  if (watcher) server.on_blocking_done([w = watcher.get()] { w->kick(); });

  FrameDecoder decoder;
  auto serve = [&](const std::vector<Frame>& frames) {
    for (const auto& frame : frames) {
      if (frame.oversized) {
        out.write_line(server.oversized_response());
        continue;
      }
      for (const auto& line : server.handle_line(frame.body)) out.write_line(line);
    }
    return out.healthy();
  };

  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::read(options.in_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      serve(decoder.finish());
      break;
    }
    if (!serve(decoder.feed(std::string_view(buf, static_cast<size_t>(n))))) {
      log_line(options.log_fd, "stdout closed; exiting");
      break;
    }
  }
  // Pending waits end now (their answers are dropped: the client is gone).
  server.cancel_all();
  reap(true);
  // Stop pushing before the objects the watcher's callback uses go away.
  session.on_change(nullptr);
  if (watcher) watcher->stop();
  return 0;
}

}  // namespace c2c::mcp
