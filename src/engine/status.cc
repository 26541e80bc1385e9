#include "s3reconcile/status.h"

namespace s3reconcile {

std::string_view status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kCancelled:
      return "CANCELLED";
    case StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case StatusCode::kNotFound:
      return "NOT_FOUND";
    case StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case StatusCode::kDataLoss:
      return "DATA_LOSS";
    case StatusCode::kInternal:
      return "INTERNAL";
    case StatusCode::kAborted:
      return "ABORTED";
    case StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
  }
  return "UNKNOWN";
}

Status::Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {
  if (code_ == StatusCode::kOk) message_.clear();
}

std::string Status::to_string() const {
  if (ok()) return "OK";
  std::string out(status_code_name(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::with_context(std::string_view context) const {
  if (ok()) return *this;
  std::string message(context);
  message += ": ";
  message += message_;
  return Status(code_, std::move(message));
}

bool ends_pass(const Status& status) {
  return status.code() == StatusCode::kCancelled || status.code() == StatusCode::kUnavailable ||
         status.code() == StatusCode::kAborted;
}

Status cancelled_error(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
Status invalid_argument_error(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
Status not_found_error(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
Status failed_precondition_error(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
Status unavailable_error(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
Status data_loss_error(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
Status internal_error(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
Status aborted_error(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
Status unimplemented_error(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }

}  // namespace s3reconcile
