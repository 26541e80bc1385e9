// The local folder backend: byte order whatever the directory order, sizes,
// symlinks, prefix and start_after, paging, probes.
#include "s3reconcile/local_backend.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "fakes.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::KeySet;
using testing::TempDir;

// Every key of the walk; also checks that exactly its final page, and no
// other, said it was the last.
std::vector<ListedObject> list_all(LocalBackend& backend, ListRequest request = {}, std::size_t* pages = nullptr) {
  std::vector<ListedObject> out;
  std::vector<bool> last_flags;
  Status s = backend.list(request,
                          [&](std::vector<ListedObject>& page, bool last) {
                            if (pages) ++*pages;
                            last_flags.push_back(last);
                            for (auto& o : page) out.push_back(std::move(o));
                            return true;
                          },
                          {});
  EXPECT_TRUE(s.ok()) << s.to_string();
  for (std::size_t i = 0; i < last_flags.size(); ++i) {
    EXPECT_EQ(last_flags[i], i + 1 == last_flags.size()) << "page " << i << " of " << last_flags.size();
  }
  return out;
}

std::vector<std::string> keys(const std::vector<ListedObject>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.key);
  return out;
}

TEST(LocalBackend, ByteOrderAcrossDirectoryBoundaries) {
  TempDir dir;
  // Directory order would put "a" (and so "a/b") anywhere; byte order says
  // "a-b" < "a/b" < "a/b-c" < "a/b/c"... and "a0" after all of "a/".
  for (const char* f :
       {"a0", "a/b/c", "a-b", "a/b-c", "a.x", "a/b0", "b~", "\xc3\xa9t\xc3\xa9", "A", "z", "a/\xc3\xa9/1"}) {
    dir.write(f);
  }
  LocalBackend backend({dir.str(), 1000});
  EXPECT_EQ(keys(list_all(backend)), (std::vector<std::string>{"A", "a-b", "a.x", "a/b-c", "a/b/c", "a/b0",
                                                               "a/\xc3\xa9/1", "a0", "b~", "z", "\xc3\xa9t\xc3\xa9"}));
}

TEST(LocalBackend, RandomTreesListStrictlyAscendingAndComplete) {
  std::mt19937 rng(7);
  const std::vector<std::string> pieces = {"a", "b", "-", ".", "~", "0", "\xc3\xa9", " ", "_"};
  for (int trial = 0; trial < 20; ++trial) {
    TempDir dir;
    KeySet expected;
    std::uniform_int_distribution<int> depth(1, 3), len(1, 3), piece(0, static_cast<int>(pieces.size()) - 1);
    for (int n = 0; n < 60; ++n) {
      std::string path;
      const int d = depth(rng);
      for (int level = 0; level < d; ++level) {
        std::string name;
        for (int c = len(rng); c > 0; --c) name += pieces[piece(rng)];
        if (name == "." || name == "..") name += "x";
        path += (level ? "/" : "") + name;
      }
      // Skip paths that would need a file to also be a folder.
      bool clash = false;
      for (const auto& k : expected) {
        if (k.starts_with(path + "/") || path.starts_with(k + "/") || k == path) clash = true;
      }
      if (clash) continue;
      dir.write(path);
      expected.insert(path);
    }
    for (std::size_t page : {1, 3, 1000}) {
      LocalBackend backend({dir.str(), page});
      auto got = keys(list_all(backend));
      ASSERT_EQ(got, std::vector<std::string>(expected.begin(), expected.end())) << "trial " << trial;
      for (std::size_t i = 1; i < got.size(); ++i) ASSERT_LT(compare_keys(got[i - 1], got[i]), 0);
    }
    // Prefix and start_after select exactly the right slice.
    LocalBackend backend({dir.str(), 2});
    for (const auto& start : expected) {
      for (const std::string prefix : {"", "a", "a/", "b"}) {
        std::vector<std::string> want;
        for (const auto& k : expected) {
          if (k.starts_with(prefix) && compare_keys(k, start) > 0) want.push_back(k);
        }
        ASSERT_EQ(keys(list_all(backend, ListRequest{prefix, start})), want)
            << "prefix " << prefix << " start_after " << start;
      }
    }
  }
}

TEST(LocalBackend, SizesAndPages) {
  TempDir dir;
  dir.write("b/one", 1);
  dir.write("b/ten", 10);
  dir.write("b/x/big", 4096);
  LocalBackend backend({dir.str(), 2});
  std::size_t pages = 0;
  auto objects = list_all(backend, {}, &pages);
  ASSERT_EQ(objects.size(), 3u);
  EXPECT_EQ(objects[0].size, 1);
  EXPECT_EQ(objects[1].size, 10);
  EXPECT_EQ(objects[2].size, 4096);
  EXPECT_TRUE(objects[0].last_modified.has_value());
  EXPECT_EQ(pages, 2u);
  // A full last page still says it is the last (no empty page after it).
  dir.write("b/y", 5);
  pages = 0;
  EXPECT_EQ(list_all(backend, {}, &pages).size(), 4u);
  EXPECT_EQ(pages, 2u);
}

TEST(LocalBackend, SymlinksAreNotFollowedOrListed) {
  TempDir dir;
  TempDir outside;
  dir.write("b/real", 3);
  outside.write("secret/file", 5);
  ASSERT_EQ(::symlink((dir.path() / "b/real").c_str(), (dir.path() / "b/link-to-file").c_str()), 0);
  ASSERT_EQ(::symlink((outside.path() / "secret").c_str(), (dir.path() / "b/link-to-dir").c_str()), 0);
  ASSERT_EQ(::symlink("/nonexistent", (dir.path() / "b/dangling").c_str()), 0);
  LocalBackend backend({dir.str(), 1000});
  EXPECT_EQ(keys(list_all(backend)), (std::vector<std::string>{"b/real"}));
  auto probe = backend.probe("b/link-to-file", {});
  ASSERT_TRUE(probe.ok());
  EXPECT_FALSE(probe->has_value()) << "a symlink is not an object";
}

// A removal check resolves the path beneath the root without following any
// link: a row whose path runs through a linked folder is absent whether or
// not the file behind the link exists, so the index's fate neither depends
// on nor reveals files outside the folder.
TEST(LocalBackend, ProbeNeverFollowsALinkedFolderOutOfTheRoot) {
  TempDir dir;
  TempDir outside;
  dir.write("photos/real", 3);
  outside.write("passwd", 5);
  ASSERT_EQ(::symlink(outside.str().c_str(), (dir.path() / "photos/link").c_str()), 0);
  ASSERT_EQ(::symlink((dir.path() / "photos").c_str(), (dir.path() / "alias").c_str()), 0);  // a link inside the root
  LocalBackend backend({dir.str(), 1000});
  for (const char* key : {"photos/link/passwd", "photos/link/missing", "alias/real", "photos/link"}) {
    auto probe = backend.probe(key, {});
    ASSERT_TRUE(probe.ok()) << key << ": " << probe.status().to_string();
    EXPECT_FALSE(probe->has_value()) << key << ": reached through a link";
  }
  auto real = backend.probe("photos/real", {});
  ASSERT_TRUE(real.ok());
  EXPECT_TRUE(real->has_value());
  // The root itself may be a link.
  TempDir links;
  ASSERT_EQ(::symlink(dir.str().c_str(), (links.path() / "root").c_str()), 0);
  LocalBackend via_link({(links.path() / "root").string(), 1000});
  auto through_root = via_link.probe("photos/real", {});
  ASSERT_TRUE(through_root.ok());
  EXPECT_TRUE(through_root->has_value());
}

TEST(LocalBackend, StopRequestedCancels) {
  TempDir dir;
  dir.write("a");
  LocalBackend backend({dir.str(), 1});
  std::stop_source stop;
  stop.request_stop();
  Status s = backend.list(
      {}, [](std::vector<ListedObject>&, bool) { return true; }, stop.get_token());
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
}

TEST(LocalBackend, CallbackStopEndsTheWalk) {
  TempDir dir;
  for (int i = 0; i < 5; ++i) dir.write("k" + std::to_string(i));
  LocalBackend backend({dir.str(), 1});
  int pages = 0;
  Status s = backend.list({}, [&](std::vector<ListedObject>&, bool) { return ++pages < 2; }, {});
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(pages, 2);
}

TEST(LocalBackend, MissingRootIsAnErrorNotAnEmptyListing) {
  TempDir dir;
  LocalBackend backend({(dir.path() / "nope").string(), 10});
  Status s = backend.list({}, [](std::vector<ListedObject>&, bool) { return true; }, {});
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("nope"), std::string::npos);
}

TEST(LocalBackend, UnreadableFolderFailsTheWalk) {
  TempDir dir;
  dir.write("b/a");
  dir.write("b/locked/x");
  dir.write("b/z");
  namespace fs = std::filesystem;
  fs::permissions(dir.path(), fs::perms::all, fs::perm_options::add);
  fs::permissions(dir.path() / "b", fs::perms::all, fs::perm_options::add);
  fs::permissions(dir.path() / "b/locked", fs::perms::none);
  // Root reads any folder, so the walk runs in a child that is not root.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    LocalBackend backend({dir.str(), 10});
    int listed = 0;
    Status s = backend.list({},
                            [&](std::vector<ListedObject>& page, bool) {
                              listed += static_cast<int>(page.size());
                              return true;
                            },
                            {});
    const bool named = s.message().find("b/locked") != std::string::npos;
    ::_exit(!s.ok() && s.code() != StatusCode::kCancelled && named ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  fs::permissions(dir.path() / "b/locked", fs::perms::owner_all);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "an unreadable folder must fail the walk, naming the folder";
}

TEST(LocalBackend, ProbeAnswersPresentAbsentAndRefusesEscapes) {
  TempDir dir;
  dir.write("b/here", 7);
  LocalBackend backend({dir.str(), 10});
  auto here = backend.probe("b/here", {});
  ASSERT_TRUE(here.ok());
  ASSERT_TRUE(here->has_value());
  EXPECT_EQ((*here)->size, 7);
  auto gone = backend.probe("b/gone", {});
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  auto under_file = backend.probe("b/here/x", {});  // ENOTDIR: absent
  ASSERT_TRUE(under_file.ok());
  EXPECT_FALSE(under_file->has_value());
  for (const char* bad : {"", "/etc/passwd", "../x", "b/../../x", "b//x", "b/./x"}) {
    auto p = backend.probe(bad, {});
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace s3reconcile
