// Keys are bytes: S3 allows any, a folder's names may be Latin-1, yet JSON
// text is UTF-8. Everything the CLI prints as JSON (diff, the change log,
// JSON logs and output) writes a key through put_bytes, so that no key is
// ever replaced by U+FFFD and every change can be undone byte for byte.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "s3reconcile/status.h"

namespace s3reconcile::cli {

// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates,
// nothing above U+10FFFF).
bool valid_utf8(std::string_view text);

// Sets j[name] to `bytes` when they are UTF-8. Otherwise j[name] is the text
// with each byte that breaks UTF-8 written as \xNN, for people, and
// j[name + "_b64"] holds the exact bytes in base64, for programs.
void put_bytes(nlohmann::ordered_json& j, const std::string& name, std::string_view bytes);

// The exact bytes put_bytes wrote as `name`: its _b64 twin decoded when
// present, else the string itself. INVALID_ARGUMENT when neither is a
// string or the base64 is malformed.
StatusOr<std::string> get_bytes(const nlohmann::json& j, const std::string& name);

}  // namespace s3reconcile::cli
