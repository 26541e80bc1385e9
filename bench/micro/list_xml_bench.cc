// The ListObjectsV2 parser (src/s3/list_xml.h) on a full page of 1000 keys,
// URL-encoded as radosgw and AWS send them: the CPU a listing spends per page.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "s3/list_xml.h"

namespace {

std::string make_page(int keys, bool url_encoded) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>bench</Name><Prefix>vb/</Prefix><MaxKeys>1000</MaxKeys>";
  if (url_encoded) xml += "<EncodingType>url</EncodingType>";
  xml += "<KeyCount>" + std::to_string(keys) + "</KeyCount><IsTruncated>true</IsTruncated>";
  xml += "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>";
  const char* slash = url_encoded ? "%2F" : "/";
  char key[96];
  for (int i = 0; i < keys; ++i) {
    std::snprintf(key, sizeof key, "vb%sd%05d%so%012d", slash, i / 10000, slash, i);
    xml += "<Contents><Key>";
    xml += key;
    xml +=
        "</Key><LastModified>2024-05-01T12:00:00.000Z</LastModified>"
        "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>";
    xml += std::to_string(1000 + i % 9000);
    xml += "</Size><StorageClass>STANDARD</StorageClass></Contents>";
  }
  return xml + "</ListBucketResult>";
}

// One parser over the page, again and again, into one ListPage (as a
// listing passes its page back for each response).
template <typename Parse>
void parse_page(benchmark::State& state, Parse parse) {
  const bool url_encoded = state.range(0) != 0;
  const std::string page = make_page(1000, url_encoded);
  s3reconcile::s3::ListPage parsed;
  for (auto _ : state) {
    if (!parse(page, parsed).ok() || parsed.objects.size() != 1000) {
      state.SkipWithError("page did not parse to 1000 keys");
      break;
    }
    benchmark::DoNotOptimize(parsed.objects.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(page.size()));
  state.SetLabel(url_encoded ? "encoding-type=url" : "plain keys");
}

// What a listing runs: the scanner, which reads these pages whole.
void BM_ParseListObjectsV2(benchmark::State& state) {
  parse_page(state, [](std::string_view xml, s3reconcile::s3::ListPage& page) {
    return s3reconcile::s3::parse_list_objects_v2(xml, page);
  });
}
BENCHMARK(BM_ParseListObjectsV2)->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond);

// The full parser alone (pugixml's DOM): what every page cost before the
// scanner, and what an unusual page still costs.
void BM_ParseListObjectsV2Dom(benchmark::State& state) {
  parse_page(state, [](std::string_view xml, s3reconcile::s3::ListPage& page) {
    auto parsed = s3reconcile::s3::parse_list_objects_v2_dom(xml);
    if (parsed.ok()) page = std::move(*parsed);
    return parsed.status();
  });
}
BENCHMARK(BM_ParseListObjectsV2Dom)->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond);

}  // namespace
