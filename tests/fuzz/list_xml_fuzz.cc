// libFuzzer target for the S3 XML parsers. Beyond not crashing (run it under
// ASan/UBSan), it checks the promises a caller relies on: a page that parses
// holds no negative size; a page the fast scanner reads is exactly the
// page the full parser (pugixml) reads: the scanner may leave any body to
// the full parser, never read one differently; and a page parsed over the
// one before (as a listing parses each response) is the page parsed anew.
//
// From the top of the tree (one command):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc
//     tests/fuzz/list_xml_fuzz.cc src/s3/list_xml.cc src/s3/list_page_scan.cc src/engine/status.cc
//     src/engine/key_order.cc -lpugixml -lfmt -o list_xml_fuzz
//   ./list_xml_fuzz tests/fuzz/corpus/list_xml
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "s3/list_xml.h"

namespace {

s3reconcile::s3::ListPage spare_page() {
  s3reconcile::s3::ListPage page;
  page.objects.resize(3);
  for (auto& object : page.objects) {
    object.key.assign(40, 'x');
    object.size = 9;
    object.last_modified = s3reconcile::Clock::time_point{};
  }
  page.common_prefixes = {"p/"};
  page.is_truncated = true;
  page.next_continuation_token = "t";
  page.url_encoded = true;
  page.key_count = 7;
  return page;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (const auto scanned = s3reconcile::s3::scan_list_objects_v2(input)) {
    const auto full = s3reconcile::s3::parse_list_objects_v2_dom(input);
    if (!full.ok() || !(*full == *scanned)) std::abort();
  }
  const auto page = s3reconcile::s3::parse_list_objects_v2(input);
  if (page.ok()) {
    for (const auto& object : page->objects) {
      if (object.size < 0) std::abort();  // not assert(): it must hold in NDEBUG builds too
    }
  }
  // Written over what the input before left in it (after an error, which
  // leaves it holding anything, a page of spares with every field set).
  static s3reconcile::s3::ListPage reused = spare_page();
  const s3reconcile::Status over = s3reconcile::s3::parse_list_objects_v2(input, reused);
  if (over.ok() != page.ok() || (page.ok() && !(reused == *page))) std::abort();
  if (!over.ok()) reused = spare_page();
  (void)s3reconcile::s3::parse_s3_error(input);
  for (const bool plus_is_space : {false, true}) {
    s3reconcile::s3::url_decode(input, plus_is_space).status().ignore_error();
  }
  return 0;
}
