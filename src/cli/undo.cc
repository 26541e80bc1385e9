#include "cli/undo.h"

#include <fstream>
#include <iostream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/json_bytes.h"
#include "cli/stores.h"
#include "config/config.h"
#include "s3reconcile/key_order.h"

namespace s3reconcile::cli {
namespace {

struct LoggedChange {
  enum class Kind { kImport, kRemove, kResize };
  std::size_t line = 0;
  Kind kind = Kind::kImport;
  std::string backend;
  // A resize: size is the size the pass wrote, index_size the one it replaced.
  Entry entry;
};

// The changes a log line records that a pass really made: nullopt for a
// dry run's line, a reported orphan and a size mismatch left alone.
StatusOr<std::optional<LoggedChange>> parse_line(const std::string& text, std::size_t line_no) {
  const auto bad = [&](const std::string& why) {
    return invalid_argument_error(fmt::format("line {}: {}", line_no, why));
  };
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return bad("not a JSON object");
  const auto action = j.find("action");
  if (action == j.end() || !action->is_string()) return bad("no \"action\"");
  const auto dry_run = j.find("dry_run");
  if (dry_run == j.end() || !dry_run->is_boolean()) return bad("no \"dry_run\": true or false");
  if (*action == "orphan" || dry_run->get<bool>()) return std::optional<LoggedChange>();
  if (*action != "import" && *action != "remove" && *action != "resize") {
    return bad(fmt::format("unknown action {}", action->dump()));
  }
  LoggedChange c;
  c.line = line_no;
  c.kind = *action == "import"   ? LoggedChange::Kind::kImport
           : *action == "remove" ? LoggedChange::Kind::kRemove
                                 : LoggedChange::Kind::kResize;
  if (c.kind == LoggedChange::Kind::kResize) {
    const auto fixed = j.find("fixed");
    if (fixed == j.end() || !fixed->is_boolean()) return bad("no \"fixed\": true or false");
    if (!fixed->get<bool>()) return std::optional<LoggedChange>();
    const auto old_size = j.find("index_size");
    if (old_size == j.end() || !old_size->is_number_integer()) return bad("no \"index_size\"");
    c.entry.index_size = old_size->get<std::int64_t>();
  }
  const auto backend = j.find("backend");
  if (backend == j.end() || !backend->is_string()) return bad("no \"backend\"");
  c.backend = backend->get<std::string>();
  auto key = get_bytes(j, "key");
  auto storage_key = get_bytes(j, "storage_key");
  if (!key.ok()) return bad(key.status().message());
  if (!storage_key.ok()) return bad(storage_key.status().message());
  c.entry.key = std::move(*key);
  c.entry.storage_key = std::move(*storage_key);
  const auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer()) return bad("no \"size\"");
  c.entry.size = size->get<std::int64_t>();
  return std::optional<LoggedChange>(std::move(c));
}

}  // namespace

int undo_command(const UndoFlags& flags) {
  auto config = config::load_config(flags.config_file);
  if (!config.ok()) {
    std::cerr << "s3reconcile: " << config.status().message() << "\n";
    return kExitUsage;
  }
  std::ifstream in(flags.changes_file);
  if (!in) {
    std::cerr << "s3reconcile: cannot read the change log \"" << flags.changes_file << "\"\n";
    return kExitUsage;
  }
  std::vector<LoggedChange> changes;
  std::size_t skipped = 0, line_no = 0;
  for (std::string text; std::getline(in, text);) {
    ++line_no;
    if (text.empty()) continue;
    auto parsed = parse_line(text, line_no);
    if (!parsed.ok()) {
      std::cerr << "s3reconcile: " << flags.changes_file << " " << parsed.status().message()
                << "; nothing was undone\n";
      return kExitUsage;
    }
    if (*parsed) {
      changes.push_back(std::move(**parsed));
    } else {
      ++skipped;
    }
  }
  auto store = open_store(config->store);
  if (!store.ok()) {
    std::cerr << "s3reconcile: " << store.status().to_string() << "\n";
    return kExitPassFailed;
  }
  std::size_t deleted = 0, restored = 0, resized = 0, unchanged = 0;
  const auto summary = [&] {
    std::cout << fmt::format(
        "{}{} imported rows deleted, {} removed rows restored, {} already undone, {} lines skipped "
        "(dry runs, orphans and size mismatches left alone), {} sizes set back\n",
        flags.dry_run ? "dry run: " : "", deleted, restored, unchanged, skipped, resized);
  };
  // Newest first, so that a key imported, then removed by a later pass,
  // ends as it was before the first.
  for (auto c = changes.rbegin(); c != changes.rend(); ++c) {
    const std::string where = fmt::format("line {}: backend {} key {}", c->line, c->backend, quote_key(c->entry.key));
    if (flags.dry_run) {
      const bool imported = c->kind == LoggedChange::Kind::kImport;
      if (c->kind == LoggedChange::Kind::kResize) {
        std::cout << "would set back the size of " << where << "\n";
        ++resized;
      } else {
        std::cout << (imported ? "would delete " : "would restore ") << where << "\n";
        ++(imported ? deleted : restored);
      }
      continue;
    }
    bool changed;
    if (c->kind == LoggedChange::Kind::kResize) {
      // Back to the old size, only while the row still holds the size the
      // pass wrote (a row written since is left alone).
      Entry back = c->entry;
      back.size = *c->entry.index_size;
      back.index_size = c->entry.size;
      auto outcome = (*store)->resize_if_unchanged(c->backend, back, Clock::now() + std::chrono::hours(24));
      if (!outcome.ok()) {
        std::cerr << "s3reconcile: " << where << ": " << outcome.status().to_string() << "\n";
        summary();
        return kExitPassFailed;
      }
      changed = *outcome == ResizeOutcome::kResized;
      resized += changed ? 1 : 0;
    } else if (c->kind == LoggedChange::Kind::kImport) {
      // The row the pass imported is deleted whenever it was written: a day
      // ahead covers any clock skew between this host and the index.
      auto outcome =
          (*store)->remove_if_created_before(c->backend, c->entry.key, Clock::now() + std::chrono::hours(24));
      if (!outcome.ok()) {
        std::cerr << "s3reconcile: " << where << ": " << outcome.status().to_string() << "\n";
        summary();
        return kExitPassFailed;
      }
      changed = *outcome == RemoveOutcome::kRemoved;
      deleted += changed ? 1 : 0;
    } else {
      auto inserted = (*store)->insert_if_absent(c->backend, c->entry, Clock::now());
      if (!inserted.ok()) {
        std::cerr << "s3reconcile: " << where << ": " << inserted.status().to_string() << "\n";
        summary();
        return kExitPassFailed;
      }
      changed = *inserted;
      restored += changed ? 1 : 0;
    }
    unchanged += changed ? 0 : 1;
  }
  summary();
  return kExitOk;
}

}  // namespace s3reconcile::cli
