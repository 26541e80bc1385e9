#include "s3reconcile/local_backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "s3reconcile/key_order.h"

namespace s3reconcile {
namespace {

struct Child {
  std::string sort_key;  // name, plus "/" for a directory: the order its keys take
  bool is_dir = false;
  std::int64_t size = 0;
  Clock::time_point mtime;
};

// One directory being walked: its children in key order and where we are.
struct Frame {
  std::string key_prefix;  // "" for the root, else "dir/sub/"
  std::vector<Child> children;
  std::size_t next = 0;
};

std::string errno_text(int err) { return std::strerror(err); }

Clock::time_point mtime_of(const struct stat& st) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(st.st_mtim.tv_sec) +
                                                                       std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

// Reads one directory's entries, without following symbolic links, sorted
// so that their keys come out in byte order. A directory that vanished
// (ENOENT) below the root reads as empty: its objects are gone.
StatusOr<std::vector<Child>> read_children(const std::string& root, const std::string& key_prefix) {
  const std::string path = key_prefix.empty() ? root : root + "/" + key_prefix;
  // The root may be a symbolic link the operator chose; below it, none is followed.
  const int nofollow = key_prefix.empty() ? 0 : O_NOFOLLOW;
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | nofollow);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT && !key_prefix.empty()) return std::vector<Child>();
    auto message = fmt::format("cannot read folder \"{}\": {}", path, errno_text(err));
    return err == ENOENT ? not_found_error(std::move(message)) : unavailable_error(std::move(message));
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    ::close(fd);
    return unavailable_error(fmt::format("cannot read folder \"{}\": {}", path, errno_text(err)));
  }
  std::vector<Child> children;
  Status failure;
  while (true) {
    errno = 0;
    const dirent* ent = ::readdir(dir);
    if (ent == nullptr) {
      if (errno != 0) {
        failure = unavailable_error(fmt::format("cannot read folder \"{}\": {}", path, errno_text(errno)));
      }
      break;
    }
    const std::string_view name = ent->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(dir), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed while we read the folder
      failure = unavailable_error(fmt::format("cannot stat \"{}/{}\": {}", path, name, errno_text(errno)));
      break;
    }
    if (S_ISREG(st.st_mode)) {
      children.push_back(Child{std::string(name), false, static_cast<std::int64_t>(st.st_size), mtime_of(st)});
    } else if (S_ISDIR(st.st_mode)) {
      children.push_back(Child{std::string(name) + "/", true, 0, {}});
    }
  }
  ::closedir(dir);
  if (!failure.ok()) return failure;
  std::sort(children.begin(), children.end(),
            [](const Child& a, const Child& b) { return compare_keys(a.sort_key, b.sort_key) < 0; });
  return children;
}

// Whether any key under directory key prefix `dir` can satisfy the request.
bool may_hold_keys(const std::string& dir, const ListRequest& request) {
  if (!dir.starts_with(request.prefix) && !request.prefix.starts_with(dir)) return false;
  if (request.start_after.empty()) return true;
  const std::string end = prefix_successor(dir);
  return end.empty() || compare_keys(request.start_after, end) < 0;
}

bool wanted(const std::string& key, const ListRequest& request) {
  return key.starts_with(request.prefix) && (request.start_after.empty() || compare_keys(key, request.start_after) > 0);
}

bool clean_relative_path(std::string_view key) {
  if (key.empty() || key.front() == '/' || key.find('\0') != std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= key.size()) {
    std::size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    const std::string_view part = key.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

LocalBackend::LocalBackend(LocalBackendOptions options) : options_(std::move(options)) {
  while (options_.root.size() > 1 && options_.root.back() == '/') options_.root.pop_back();
  if (options_.page_size == 0) options_.page_size = 1;
}

Status LocalBackend::list(const ListRequest& request, const PageCallback& on_page, std::stop_token stop) {
  std::vector<ListedObject> page;
  page.reserve(options_.page_size);
  // A full page is handed over when the next key turns up (or the walk
  // ends), so that it can say whether it is the last.
  auto flush = [&](bool last) -> bool {
    const bool more = on_page(page, last);
    page.clear();
    return more;
  };

  auto root = read_children(options_.root, "");
  if (!root.ok()) return root.status().with_context("local backend");
  std::vector<Frame> stack;
  stack.push_back(Frame{"", std::move(*root), 0});
  while (!stack.empty()) {
    if (stop.stop_requested()) return cancelled_error("local listing cancelled");
    Frame& top = stack.back();
    if (top.next == top.children.size()) {
      stack.pop_back();
      continue;
    }
    Child& child = top.children[top.next++];
    std::string key = top.key_prefix + child.sort_key;
    if (child.is_dir) {
      if (!may_hold_keys(key, request)) continue;
      auto children = read_children(options_.root, key);
      if (!children.ok()) return children.status().with_context("local backend");
      stack.push_back(Frame{std::move(key), std::move(*children), 0});  // `top` is now stale
      continue;
    }
    if (!wanted(key, request)) continue;
    if (page.size() == options_.page_size && !flush(/*last=*/false)) return ok_status();
    page.push_back(ListedObject{std::move(key), child.size, child.mtime});
  }
  if (!page.empty()) flush(/*last=*/true);
  return ok_status();
}

StatusOr<std::vector<std::string>> LocalBackend::list_top_level(const std::string& prefix, char delimiter,
                                                                std::stop_token /*stop*/) {
  if (delimiter != '/' || (!prefix.empty() && !prefix.ends_with('/'))) {
    return unimplemented_error("a folder splits only at \"/\" and at whole folder names");
  }
  if (!prefix.empty() && !clean_relative_path(std::string_view(prefix).substr(0, prefix.size() - 1))) {
    return invalid_argument_error(fmt::format("prefix {} is not a clean relative path", quote_key(prefix)));
  }
  auto children = read_children(options_.root, prefix);
  if (!children.ok()) return children.status();
  std::vector<std::string> names;
  for (const auto& child : *children) {
    if (names.size() >= options_.page_size) break;
    names.push_back(prefix + child.sort_key);
  }
  return names;
}

StatusOr<std::optional<ObjectInfo>> LocalBackend::probe(std::string_view storage_key, std::stop_token /*stop*/) {
  if (!clean_relative_path(storage_key)) {
    return invalid_argument_error(fmt::format("storage key {} is not a clean relative path", quote_key(storage_key)));
  }
  // Walk the path one folder at a time beneath the root, following no
  // symbolic link (as the listing follows none): a path through a link is
  // absent, whatever lies behind the link, so that an index row's fate
  // never depends on, nor reveals, files outside the folder. The root itself
  // may be a link.
  auto cannot = [&](std::string_view what, int err) {
    return unavailable_error(fmt::format("cannot {} \"{}/{}\": {}", what, options_.root, storage_key, errno_text(err)));
  };
  auto absent_after = [](int err) { return err == ENOENT || err == ENOTDIR || err == ELOOP; };
  int dir = ::open(options_.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return absent_after(errno) ? StatusOr<std::optional<ObjectInfo>>(std::nullopt) : cannot("open", errno);
  std::size_t start = 0;
  for (std::size_t slash; (slash = storage_key.find('/', start)) != std::string_view::npos; start = slash + 1) {
    const std::string part(storage_key.substr(start, slash - start));
    const int next = ::openat(dir, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int err = errno;
    ::close(dir);
    if (next < 0) return absent_after(err) ? StatusOr<std::optional<ObjectInfo>>(std::nullopt) : cannot("open", err);
    dir = next;
  }
  struct stat st;
  const std::string last(storage_key.substr(start));
  const int rc = ::fstatat(dir, last.c_str(), &st, AT_SYMLINK_NOFOLLOW);
  const int err = errno;
  ::close(dir);
  if (rc != 0) return absent_after(err) ? StatusOr<std::optional<ObjectInfo>>(std::nullopt) : cannot("stat", err);
  if (!S_ISREG(st.st_mode)) return std::optional<ObjectInfo>();
  return std::optional<ObjectInfo>(ObjectInfo{static_cast<std::int64_t>(st.st_size)});
}

}  // namespace s3reconcile
