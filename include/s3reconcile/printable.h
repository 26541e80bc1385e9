// Making text that came from outside (a server's error message, a key) fit
// to print, and keeping known secrets out of anything printed.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace s3reconcile {

// The most bytes of one piece of outside text that is printed.
inline constexpr std::size_t kMaxPrintedBytes = 512;

// `text` with control bytes (ESC, BEL, CR, LF, ...) and DEL escaped as \xNN,
// so that it can neither drive a terminal nor forge a log line, cut after
// `max_bytes` with a note of how much was left out.
std::string printable(std::string_view text, std::size_t max_bytes = kMaxPrintedBytes);

// `text` with every occurrence of each non-empty secret replaced by
// "********".
std::string redact(std::string text, std::initializer_list<std::string_view> secrets);

}  // namespace s3reconcile
