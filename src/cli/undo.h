// `s3reconcile undo`: reverses what passes wrote to their --changes log.
#pragma once

#include <string>

namespace s3reconcile::cli {

struct UndoFlags {
  std::string config_file;
  std::string changes_file;
  bool dry_run = false;
};

// Reads the whole log first (a malformed line changes nothing: exit 2,
// naming the line), then walks it newest first: an imported row is deleted,
// a removed row is inserted back with the exact key bytes the log holds
// (created_at is now: the log never had the old one), a resized row gets
// its old size back if it still holds the size the pass wrote. Lines of dry
// runs, reported orphans and size mismatches left alone ("fixed": false)
// changed nothing and are skipped. Exit 0, 1 when the
// index fails (the changes undone so far stay undone and are counted).
int undo_command(const UndoFlags& flags);

}  // namespace s3reconcile::cli
