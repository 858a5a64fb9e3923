#pragma once
// Internal to c2c_net: the bridge between a Handler's Responder (callable once, from any thread)
// and the session coroutine waiting for the answer on its own executor.

#include <memory>
#include <mutex>

#include "c2c/net/detail/asio.hpp"
#include "c2c/net/http_types.hpp"

namespace c2c::net::detail {

class PendingResponse {
 public:
  // Stores the response and resumes the waiting session, if it is already waiting.
  // Only the first call counts; later ones return false.
  bool fulfil(Response response) {
    std::unique_ptr<Waiter> waiter;
    {
      std::lock_guard lock(mu_);
      if (done_) return false;
      done_ = true;
      response_ = std::move(response);
      waiter = std::move(waiter_);
    }
    if (waiter) waiter->resume();
    return true;
  }

  bool done() {
    std::lock_guard lock(mu_);
    return done_;
  }

  // Valid once done() (or once async_wait completed).
  Response take() {
    std::lock_guard lock(mu_);
    return std::move(response_);
  }

  // Completes once fulfil() has been called. The completion always runs through the waiter's
  // associated executor (the session's strand), never inline on the fulfilling thread; the
  // work guard keeps io_context::run() alive (graceful stop waits for late answers).
  template <class Token>
  auto async_wait(Token&& token) {
    return asio::async_initiate<Token, void()>(
        [this](auto handler) {
          auto waiter = std::make_unique<WaiterImpl<decltype(handler)>>(std::move(handler));
          std::unique_lock lock(mu_);
          if (done_) {
            lock.unlock();
            waiter->resume();
            return;
          }
          waiter_ = std::move(waiter);
        },
        token);
  }

 private:
  struct Waiter {
    virtual ~Waiter() = default;
    virtual void resume() = 0;
  };
  template <class Handler>
  struct WaiterImpl final : Waiter {
    explicit WaiterImpl(Handler h)
        : handler(std::move(h)), work(asio::get_associated_executor(handler)) {}
    void resume() override {
      auto ex = work.get_executor();
      asio::post(ex, std::move(handler));
      work.reset();
    }
    Handler handler;
    asio::executor_work_guard<asio::associated_executor_t<Handler>> work;
  };

  std::mutex mu_;
  bool done_ = false;
  Response response_;
  std::unique_ptr<Waiter> waiter_;
};

// The Responder handed to the Handler. Copies share one state; when the last copy is destroyed
// without having been called (a handler bug), the client gets a 500 instead of a hung connection.
Responder make_responder(std::shared_ptr<PendingResponse> pending);

}  // namespace c2c::net::detail
