#pragma once
// Internal to c2c_net: the bridge between a Handler's Responder (callable once, from any thread)
// and the session coroutine waiting for the answer on its own executor.

#include <atomic>
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

  // Ready for the next request. Only when nobody else holds this object any more.
  void reset() {
    std::lock_guard lock(mu_);
    done_ = false;
    response_ = Response{};
    waiter_.reset();
    holders_.store(0, std::memory_order_relaxed);
  }

  // Holders are the live Responder copies (plus the session while the handler runs). When the
  // last one goes away unanswered, that is a handler bug: answer 500 rather than hang.
  void hold() { holders_.fetch_add(1, std::memory_order_relaxed); }
  void release();

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
  std::atomic<int> holders_{0};
  bool done_ = false;
  Response response_;
  std::unique_ptr<Waiter> waiter_;
};

// The Responder handed to the Handler: each copy is one holder of the PendingResponse.
class ResponderFn {
 public:
  explicit ResponderFn(std::shared_ptr<PendingResponse> p) : p_(std::move(p)) { p_->hold(); }
  ResponderFn(const ResponderFn& o) : p_(o.p_) { p_->hold(); }
  ResponderFn(ResponderFn&& o) noexcept = default;  // the hold moves along
  ResponderFn& operator=(const ResponderFn&) = delete;
  ResponderFn& operator=(ResponderFn&&) = delete;
  ~ResponderFn() {
    if (p_) p_->release();
  }
  void operator()(Response response) const { p_->fulfil(std::move(response)); }

 private:
  std::shared_ptr<PendingResponse> p_;
};

}  // namespace c2c::net::detail
