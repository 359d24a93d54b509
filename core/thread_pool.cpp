// core/thread_pool.cpp — persistent workers serving a list of jobs (one per running parallel loop).
#include "core/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace lensflow::core {
namespace {

thread_local bool in_pool_work = false;  // inside a chunk: nested loops run serially

// Waking a sleeping thread costs tens of microseconds, about what a small op takes; a training
// step runs ~1,000 parallel loops back to back. So a worker that runs out of work, and a caller
// waiting for its helpers' last chunks, first poll for this long before sleeping.
constexpr auto kSpin = std::chrono::microseconds(100);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls `ready` (no lock held) until it returns true or kSpin has passed.
template <class F> bool spin_until(F&& ready) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (ready()) return true;
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return false;
  }
}

// One parallel loop: chunks [0, total) claimed in order; guarded by the pool's mutex.
struct Job {
  Job(const std::function<void(int64_t)>& f, int64_t chunks, int max_threads)
      : fn(&f), total(chunks), max_helpers(max_threads - 1), unfinished(chunks), done(chunks == 0) {}
  const std::function<void(int64_t)>* fn;
  int64_t total;
  int max_helpers;     // workers allowed besides the caller
  int64_t next = 0;    // next chunk to claim
  int64_t unfinished;  // chunks not yet finished
  int helpers = 0;     // workers on this job now
  std::atomic<bool> done;  // unfinished == 0 && helpers == 0 (read without the lock)
  std::exception_ptr error;
};

class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }

  int size() const {
    std::lock_guard<std::mutex> lk(m_);
    return n_workers_ + 1;  // + the caller
  }

  void resize(int n) {
    std::lock_guard<std::mutex> resize_lock(resize_m_);
    stop();
    std::lock_guard<std::mutex> lk(m_);
    stopping_ = false;
    n_workers_ = std::max(n, 1) - 1;
    for (int i = 0; i < n_workers_; ++i) workers_.emplace_back([this] { loop(); });
  }

  // Runs fn(c) for every chunk c in [0, chunks) on the caller and at most max_threads - 1 workers.
  void run(int64_t chunks, int max_threads, const std::function<void(int64_t)>& fn) {
    Job job(fn, chunks, max_threads);
    std::unique_lock<std::mutex> lk(m_);
    jobs_.push_back(&job);
    posted_.fetch_add(1, std::memory_order_release);
    if (job.max_helpers > 0) cv_.notify_all();
    work(job, lk);
    if (!job.done.load(std::memory_order_acquire)) {
      lk.unlock();
      spin_until([&] { return job.done.load(std::memory_order_acquire); });
      lk.lock();
    }
    done_cv_.wait(lk, [&] { return job.done.load(std::memory_order_relaxed); });
    jobs_.erase(std::find(jobs_.begin(), jobs_.end(), &job));
    lk.unlock();
    if (job.error) std::rethrow_exception(job.error);
  }

 private:
  // Claims and runs chunks of `job` until none is left; lk is held on entry and on return. After a
  // chunk has failed the remaining ones are claimed without running.
  void work(Job& job, std::unique_lock<std::mutex>& lk) {
    const bool was = in_pool_work;
    in_pool_work = true;
    while (job.next < job.total) {
      const int64_t c = job.next++;
      const bool skip = job.error != nullptr;
      lk.unlock();
      std::exception_ptr error;
      if (!skip) {
        try {
          (*job.fn)(c);
        } catch (...) {
          error = std::current_exception();
        }
      }
      lk.lock();
      if (error && !job.error) job.error = error;
      if (--job.unfinished == 0) finished(job);
    }
    in_pool_work = was;
  }

  // Called with the lock held whenever unfinished or helpers drops to 0.
  void finished(Job& job) {
    if (job.unfinished != 0 || job.helpers != 0) return;
    job.done.store(true, std::memory_order_release);
    done_cv_.notify_all();
  }

  Job* open_job() const {
    for (Job* j : jobs_)
      if (j->next < j->total && j->helpers < j->max_helpers) return j;
    return nullptr;
  }

  void loop() {
    std::unique_lock<std::mutex> lk(m_);
    for (;;) {
      if (!stopping_ && open_job() == nullptr) {  // poll for the next loop before sleeping
        const uint64_t seen = posted_.load(std::memory_order_acquire);
        lk.unlock();
        spin_until([&] { return posted_.load(std::memory_order_acquire) != seen; });
        lk.lock();
      }
      cv_.wait(lk, [&] { return stopping_ || open_job() != nullptr; });
      if (stopping_) return;
      Job& job = *open_job();
      ++job.helpers;
      work(job, lk);
      if (--job.helpers == 0) finished(job);
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  int n_workers_ = 0;
  mutable std::mutex m_;
  std::mutex resize_m_;
  std::condition_variable cv_, done_cv_;
  std::vector<Job*> jobs_;
  std::atomic<uint64_t> posted_{0};  // jobs ever posted (what spinning workers watch)
  bool stopping_ = false;
};

Pool& pool() {
  static Pool p(hardware_threads());
  return p;
}

}  // namespace

int hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

void set_num_threads(int n) { pool().resize(n <= 0 ? hardware_threads() : n); }

int num_threads() { return pool().size(); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int threads = num_threads();
  if (in_pool_work || threads == 1 || n < 2 * grain) {
    fn(0, n);
    return;
  }
  // A few chunks per thread balance uneven work without much overhead.
  const int64_t chunks = std::min<int64_t>((n + grain - 1) / grain, int64_t(threads) * 4);
  const int64_t step = (n + chunks - 1) / chunks;
  pool().run(chunks, threads, [&](int64_t c) {
    const int64_t b = c * step, e = std::min(n, b + step);
    if (b < e) fn(b, e);
  });
}

void parallel_for_chunks(std::size_t n, std::size_t chunk, int n_threads,
                         const std::function<void(std::size_t, std::size_t)>& body) {
  if (n == 0) return;
  chunk = std::max<std::size_t>(chunk, 1);
  const std::size_t n_chunks = (n + chunk - 1) / chunk;
  const int threads = n_threads > 0 ? std::min(n_threads, num_threads()) : num_threads();
  if (in_pool_work || threads == 1 || n_chunks == 1) {
    for (std::size_t b = 0; b < n; b += chunk) body(b, std::min(n, b + chunk));
    return;
  }
  pool().run(int64_t(n_chunks), threads, [&](int64_t c) {
    const std::size_t b = std::size_t(c) * chunk;
    body(b, std::min(n, b + chunk));
  });
}

}  // namespace lensflow::core
