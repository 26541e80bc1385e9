// Status and StatusOr: the one error type of the whole library.
//
// A Status is either OK or carries a code and a message. The code tells the
// caller what to do about the failure; the message tells the operator what
// went wrong, naming the key, page, row or config line involved.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace s3reconcile {

enum class StatusCode {
  kOk = 0,
  // The pass was stopped (signal, shutdown, consumer gave up). Not a failure
  // of the data, but never a clean end of a stream either.
  kCancelled,
  // A caller-supplied value is wrong (bad config, bad key). Do not retry.
  kInvalidArgument,
  // The thing asked for does not exist.
  kNotFound,
  // The system is not in a state where the operation is valid, e.g. a stream
  // came back out of order. Do not retry without fixing the cause.
  kFailedPrecondition,
  // Transient: a server or database could not be reached. Retry with backoff.
  kUnavailable,
  // Data came back damaged or cut short (malformed or truncated response).
  kDataLoss,
  // An invariant of this program was broken.
  kInternal,
  // A safety limit stopped the operation (a removal guard). Ends the pass;
  // the operator decides whether to override it.
  kAborted,
  // The implementation does not offer this optional operation; the caller
  // falls back to another way.
  kUnimplemented,
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  // An OK status.
  Status() = default;
  Status(StatusCode code, std::string message);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "CODE: message", or "OK".
  std::string to_string() const;

  // The same status with "context: " put in front of its message. OK stays OK.
  Status with_context(std::string_view context) const;

  // Marks a status as deliberately unused.
  void ignore_error() const {}

  friend bool operator==(const Status&, const Status&) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status ok_status() { return Status(); }
Status cancelled_error(std::string message);
Status invalid_argument_error(std::string message);
Status not_found_error(std::string message);
Status failed_precondition_error(std::string message);
Status unavailable_error(std::string message);
Status data_loss_error(std::string message);
Status internal_error(std::string message);
Status aborted_error(std::string message);
Status unimplemented_error(std::string message);

// Whether a failure of one import or removal must end the whole pass rather
// than be counted and skipped: true for cancellation, a tripped safety limit
// and an unreachable store (every later key would fail the same way, and the operator needs to
// see one clear error).
bool ends_pass(const Status& status);

// A value or the error that prevented it. Never holds an OK status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : rep_(std::move(value)) {}        // NOLINT: implicit by design
  StatusOr(Status status) : rep_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(rep_).ok() && "StatusOr needs a value or an error");
    if (std::get<Status>(rep_).ok()) {
      rep_ = Status(StatusCode::kInternal, "StatusOr built from an OK status");
    }
  }

  bool ok() const { return std::holds_alternative<T>(rep_); }

  // The error, or OK when a value is held.
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(rep_);
  }

  // Requires ok().
  T& value() & { return std::get<T>(rep_); }
  const T& value() const& { return std::get<T>(rep_); }
  T&& value() && { return std::get<T>(std::move(rep_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> rep_;
};

}  // namespace s3reconcile

// Returns the status of `expr` from the enclosing function when it is an error.
#define S3R_RETURN_IF_ERROR(expr)               \
  do {                                          \
    ::s3reconcile::Status s3r_status_ = (expr); \
    if (!s3r_status_.ok()) return s3r_status_;  \
  } while (false)
