// The `local` backend: a folder whose regular files are the objects.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "s3reconcile/object_lister.h"
#include "s3reconcile/object_prober.h"

namespace s3reconcile {

struct LocalBackendOptions {
  // The folder holding the objects. Each regular file below it is an object
  // whose key is its path relative to this folder, with '/' separators.
  std::string root;
  // Keys per page handed to the page callback.
  std::size_t page_size = 1000;
};

// Lists a folder as an S3 bucket would list it: every regular file, in byte
// order of the key, whatever order the file system returns entries in
// ("a-b" < "a/b" < "a0"). The walk holds one sorted listing per directory
// on the path being walked, never the whole tree. Symbolic links are neither
// listed nor followed; other non-regular files are ignored. A directory that
// cannot be read fails the walk (an unreadable folder is not an empty one).
class LocalBackend final : public ObjectLister, public ObjectProber {
 public:
  explicit LocalBackend(LocalBackendOptions options);

  Status list(const ListRequest& request, const PageCallback& on_page, std::stop_token stop) override;

  // The files and folders (as "name/") of the folder `prefix` names, which
  // must be "" or end in '/'; `delimiter` must be '/'.
  StatusOr<std::vector<std::string>> list_top_level(const std::string& prefix, char delimiter,
                                                    std::stop_token stop) override;

  // lstat of root/storage_key: a regular file is present; nothing there (or
  // something that is not a regular file) is absent. A storage key that is
  // not a clean relative path ("..", absolute, empty parts) is an error.
  StatusOr<std::optional<ObjectInfo>> probe(std::string_view storage_key, std::stop_token stop) override;

  const LocalBackendOptions& options() const { return options_; }

 private:
  LocalBackendOptions options_;
};

}  // namespace s3reconcile
