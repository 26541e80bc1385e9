// A mutex and its scoped lock that Clang's thread-safety analysis
// understands, so that "guarded by" is checked by the compiler instead of
// promised in a comment. scripts/lint compiles every source with clang and
// -Wthread-safety (through clang-tidy); other compilers see plain std::mutex.
//
//   Mutex mu_;
//   int count_ S3R_GUARDED_BY(mu_);
//   void add() { MutexLock lock(mu_); ++count_; }
//   void bump() S3R_REQUIRES(mu_);          // the caller holds mu_
//   lock.wait(cv_, [&]() S3R_REQUIRES(mu_) { return count_ > 0; });
#pragma once

#include <mutex>
#include <utility>

#if defined(__clang__)
#define S3R_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define S3R_THREAD_ANNOTATION(x)
#endif

#define S3R_CAPABILITY(name) S3R_THREAD_ANNOTATION(capability(name))
#define S3R_SCOPED_CAPABILITY S3R_THREAD_ANNOTATION(scoped_lockable)
#define S3R_GUARDED_BY(mu) S3R_THREAD_ANNOTATION(guarded_by(mu))
#define S3R_PT_GUARDED_BY(mu) S3R_THREAD_ANNOTATION(pt_guarded_by(mu))
#define S3R_REQUIRES(...) S3R_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define S3R_ACQUIRE(...) S3R_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define S3R_RELEASE(...) S3R_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define S3R_EXCLUDES(...) S3R_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

namespace s3reconcile {

class S3R_CAPABILITY("mutex") Mutex {
 public:
  void lock() S3R_ACQUIRE() { mu_.lock(); }
  void unlock() S3R_RELEASE() { mu_.unlock(); }

 private:
  friend class MutexLock;
  std::mutex mu_;
};

// Holds `mu` for its scope. Waits on a condition variable (either kind)
// release and retake it, as std::unique_lock's do.
class S3R_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) S3R_ACQUIRE(mu) : lock_(mu.mu_) {}
  ~MutexLock() S3R_RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Let go for a while (a slow call that must not hold the lock), then retake.
  void unlock() S3R_RELEASE() { lock_.unlock(); }
  void lock() S3R_ACQUIRE() { lock_.lock(); }

  template <typename ConditionVariable, typename... Args>
  auto wait(ConditionVariable& cv, Args&&... args) {
    return cv.wait(lock_, std::forward<Args>(args)...);
  }
  template <typename ConditionVariable, typename... Args>
  auto wait_for(ConditionVariable& cv, Args&&... args) {
    return cv.wait_for(lock_, std::forward<Args>(args)...);
  }
  template <typename ConditionVariable, typename... Args>
  auto wait_until(ConditionVariable& cv, Args&&... args) {
    return cv.wait_until(lock_, std::forward<Args>(args)...);
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace s3reconcile
