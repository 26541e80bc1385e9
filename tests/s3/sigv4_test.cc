#include "s3/sigv4.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#ifndef S3R_TEST_DATA_DIR
#error "S3R_TEST_DATA_DIR must name the absolute path of tests/data"
#endif

namespace s3reconcile::s3 {
namespace {

namespace fs = std::filesystem;

const fs::path kVectorDir = fs::path(S3R_TEST_DATA_DIR) / "sigv4";

// Vector cases that do not describe S3 signing. S3 signs the path exactly as
// sent; these expect the path normalized (dot segments resolved, slashes
// merged), which S3 must not do: "a/./b" and "a//b" are distinct keys. Each
// has an "-unnormalized" twin that does run.
const std::map<std::string, std::string> kExcluded = {
    {"get-relative-normalized", "normalize: '/example/..' expected as '/'"},
    {"get-relative-relative-normalized", "normalize: '/example1/example2/../..' expected as '/'"},
    {"get-slash-dot-slash-normalized", "normalize: '/./' expected as '/'"},
    {"get-slash-normalized", "normalize: '//' expected as '/'"},
    {"get-slash-pointless-dot-normalized", "normalize: '/./example' expected as '/example'"},
    {"get-slashes-normalized", "normalize: '//example//' expected as '/example/'"},
};

// Every case folder minus the exclusions. If this drops (folder moved, files
// missing) the suite must fail rather than pass on nothing.
constexpr std::size_t kMinVectorCases = 32;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The expected files carry no final newline; tolerate one added by an editor.
std::string read_expected(const fs::path& path) {
  std::string text = read_file(path);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::vector<std::string> vector_case_names() {
  std::vector<std::string> names;
  if (!fs::is_directory(kVectorDir)) return names;
  for (const auto& entry : fs::directory_iterator(kVectorDir)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> runnable_cases() {
  std::vector<std::string> names;
  for (auto& name : vector_case_names()) {
    if (!kExcluded.contains(name)) names.push_back(std::move(name));
  }
  return names;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool has_escape(std::string_view text) {
  for (std::size_t i = 0; i + 2 < text.size(); ++i) {
    if (text[i] == '%' && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) return true;
  }
  return false;
}

// '+' stays '+': RFC 3986 query text, not form encoding.
std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

struct RawRequest {
  std::string method;
  std::string path;   // as in the request line
  std::string query;  // after '?', as in the request line
  NameValues headers;
  std::string body;
};

// The vectors' request.txt: "METHOD TARGET HTTP/1.1", header lines (a line
// starting with whitespace continues the previous value; the line break is
// kept so the signer has to fold it), a blank line, the body.
RawRequest parse_request(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }

  RawRequest req;
  // The target may contain spaces (get-space-*): method is before the first
  // space, the version after the last.
  const std::string& request_line = lines.at(0);
  const std::size_t first = request_line.find(' ');
  const std::size_t last = request_line.rfind(' ');
  if (first == std::string::npos || last == first) throw std::runtime_error("bad request line: " + request_line);
  req.method = request_line.substr(0, first);
  const std::string target = request_line.substr(first + 1, last - first - 1);
  const std::size_t question = target.find('?');
  req.path = target.substr(0, question);
  if (question != std::string::npos) req.query = target.substr(question + 1);

  std::size_t i = 1;
  for (; i < lines.size() && !lines[i].empty(); ++i) {
    const std::string& line = lines[i];
    if (line[0] == ' ' || line[0] == '\t') {
      if (req.headers.empty()) throw std::runtime_error("continuation line before any header");
      req.headers.back().second += "\n" + line;
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) throw std::runtime_error("bad header line: " + line);
    req.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  for (std::size_t b = i + 1; b < lines.size(); ++b) {
    if (b > i + 1) req.body += '\n';
    req.body += lines[b];
  }
  return req;
}

NameValues parse_query(std::string_view query) {
  NameValues out;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    out.emplace_back(percent_decode(pair.substr(0, eq)),
                     eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

Clock::time_point parse_timestamp(const std::string& text) {
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (std::sscanf(text.c_str(), "%d-%u-%uT%u:%u:%uZ", &y, &mo, &d, &h, &mi, &s) != 6) {
    throw std::runtime_error("bad timestamp: " + text);
  }
  using namespace std::chrono;
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

Clock::time_point at(int y, unsigned mo, unsigned d, unsigned h = 0, unsigned mi = 0, unsigned s = 0) {
  using namespace std::chrono;
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

class Sigv4Vector : public testing::TestWithParam<std::string> {};

TEST_P(Sigv4Vector, MatchesAws) {
  const fs::path dir = kVectorDir / GetParam();
  const nlohmann::json context = nlohmann::json::parse(read_file(dir / "context.json"));
  const RawRequest raw = parse_request(read_file(dir / "request.txt"));
  const Clock::time_point when = parse_timestamp(context.at("timestamp").get<std::string>());

  Credentials credentials;
  credentials.access_key_id = context.at("credentials").at("access_key_id").get<std::string>();
  credentials.secret_access_key = context.at("credentials").at("secret_access_key").get<std::string>();
  credentials.session_token = context.at("credentials").value("token", "");

  RequestToSign request;
  request.method = raw.method;
  // What an S3 client puts on the wire: the key encoded once.
  request.canonical_uri = has_escape(raw.path) ? raw.path : uri_encode(raw.path, true);
  request.query = parse_query(raw.query);
  request.headers = raw.headers;
  request.headers.emplace_back("X-Amz-Date", amz_date(when));
  // omit_session_token: the token is added after signing (post-sts-header-after),
  // so the signer must not slip it in on its own.
  if (!credentials.session_token.empty() && !context.value("omit_session_token", false)) {
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  request.payload_hash = sha256_hex(raw.body);
  if (context.value("sign_body", false)) request.headers.emplace_back("X-Amz-Content-Sha256", request.payload_hash);

  const Signature sig = sign_v4(request, credentials, context.at("region").get<std::string>(),
                                context.at("service").get<std::string>(), when);
  EXPECT_EQ(sig.canonical_request, read_expected(dir / "header-canonical-request.txt"));
  EXPECT_EQ(sig.string_to_sign, read_expected(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(sig.signature, read_expected(dir / "header-signature.txt"));
  EXPECT_NE(sig.authorization.find("Signature=" + sig.signature), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Aws, Sigv4Vector, testing::ValuesIn(runnable_cases()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Sigv4Vectors, EnoughCasesRunAndExclusionsAreReal) {
  const std::vector<std::string> all = vector_case_names();
  EXPECT_GE(runnable_cases().size(), kMinVectorCases) << "vector folder: " << kVectorDir;
  const std::set<std::string> present(all.begin(), all.end());
  const std::vector<std::string> running = runnable_cases();
  for (const auto& [name, reason] : kExcluded) {
    SCOPED_TRACE(name + ": " + reason);
    ASSERT_TRUE(present.contains(name)) << "excluded case not found (stale list?)";
    const nlohmann::json context = nlohmann::json::parse(read_file(kVectorDir / name / "context.json"));
    EXPECT_TRUE(context.value("normalize", false)) << "excluded as normalized, but the case does not normalize";
    const std::string twin = name.substr(0, name.size() - std::string_view("normalized").size()) + "unnormalized";
    EXPECT_NE(std::find(running.begin(), running.end(), twin), running.end()) << "no unnormalized twin runs";
  }
}

// The two header-signed examples of AWS's "Signature Calculations for the
// Authorization Header" page for S3.
const Credentials kDocCredentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const std::string kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(Sigv4S3, AwsDocGetObjectWithRange) {
  const Clock::time_point when = at(2013, 5, 24);
  RequestToSign request;
  request.method = "GET";
  request.canonical_uri = "/test.txt";
  request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                     {"Range", "bytes=0-9"},
                     {"x-amz-content-sha256", kEmptyHash},
                     {"x-amz-date", amz_date(when)}};
  request.payload_hash = kEmptyHash;

  const Signature sig = sign_v4(request, kDocCredentials, "us-east-1", "s3", when);
  EXPECT_EQ(sig.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:" +
                kEmptyHash +
                "\nx-amz-date:20130524T000000Z\n\n"
                "host;range;x-amz-content-sha256;x-amz-date\n" +
                kEmptyHash);
  EXPECT_EQ(sig.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(sig.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(sig.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(sig.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(Sigv4S3, AwsDocListObjects) {
  const Clock::time_point when = at(2013, 5, 24);
  RequestToSign request;
  request.method = "GET";
  request.canonical_uri = "/";
  request.query = {{"prefix", "J"}, {"max-keys", "2"}};  // out of order on purpose
  request.headers = {
      {"Host", "examplebucket.s3.amazonaws.com"}, {"x-amz-date", amz_date(when)}, {"x-amz-content-sha256", kEmptyHash}};
  request.payload_hash = kEmptyHash;

  const Signature sig = sign_v4(request, kDocCredentials, "us-east-1", "s3", when);
  EXPECT_EQ(sig.canonical_request,
            "GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:" +
                kEmptyHash +
                "\nx-amz-date:20130524T000000Z\n\n"
                "host;x-amz-content-sha256;x-amz-date\n" +
                kEmptyHash);
  EXPECT_EQ(sig.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(Sigv4S3, UriEncodeKeys) {
  const std::string key = "a b+c%d&e<f\"g~h_i-j.k/\xc3\xa9";  // last: "é" in UTF-8
  EXPECT_EQ(uri_encode(key, true), "a%20b%2Bc%25d%26e%3Cf%22g~h_i-j.k/%C3%A9");
  EXPECT_EQ(uri_encode(key, false), "a%20b%2Bc%25d%26e%3Cf%22g~h_i-j.k%2F%C3%A9");
  EXPECT_EQ(uri_encode("", false), "");
  EXPECT_EQ(uri_encode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(uri_encode(std::string("\x00\x7f\xff", 3), false), "%00%7F%FF");
}

TEST(Sigv4S3, CanonicalQueryEncodesContinuationToken) {
  const NameValues query = {{"list-type", "2"},
                            {"prefix", "photos/"},
                            {"continuation-token", "1ueGcx+LPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="},
                            {"max-keys", "1000"}};
  EXPECT_EQ(canonical_query(query),
            "continuation-token=1ueGcx%2BLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D"
            "&list-type=2&max-keys=1000&prefix=photos%2F");
}

TEST(Sigv4S3, CanonicalQuerySortsEncodedNamesThenValues) {
  // Raw "z" < "é" but encoded "%C3%A9" < "z": the encoded order wins.
  EXPECT_EQ(canonical_query({{"z", "1"}, {"\xc3\xa9", "2"}}), "%C3%A9=2&z=1");
  EXPECT_EQ(canonical_query({{"k", "b"}, {"k", "a"}}), "k=a&k=b");
  EXPECT_EQ(canonical_query({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(canonical_query({}), "");
}

TEST(Sigv4S3, UnsignedPayloadIsTheLastLine) {
  RequestToSign request;
  request.method = "HEAD";
  request.canonical_uri = "/bucket/my%20key";
  request.headers = {
      {"host", "s3.example.com"}, {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}, {"x-amz-date", "20240229T235959Z"}};
  request.payload_hash = "UNSIGNED-PAYLOAD";
  const Signature sig = sign_v4(request, kDocCredentials, "eu-west-1", "s3", at(2024, 2, 29, 23, 59, 59));
  const std::string& creq = sig.canonical_request;
  EXPECT_EQ(creq.substr(creq.rfind('\n') + 1), "UNSIGNED-PAYLOAD");
  EXPECT_NE(creq.find("\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"), std::string::npos);
  // The path is signed as given: not decoded, not encoded a second time.
  EXPECT_EQ(creq.substr(0, creq.find('\n', 5)), "HEAD\n/bucket/my%20key");
  EXPECT_NE(sig.string_to_sign.find("\n20240229/eu-west-1/s3/aws4_request\n"), std::string::npos);
}

TEST(Sigv4S3, HeaderNamesLowercasedValuesFolded) {
  RequestToSign request;
  request.method = "GET";
  request.canonical_uri = "/";
  request.headers = {{"X-Amz-Meta-B", "  two\n\t words  "}, {"HOST", "h"}, {"x-amz-meta-b", "x"}};
  request.payload_hash = kEmptyHash;
  const Signature sig = sign_v4(request, kDocCredentials, "us-east-1", "s3", at(2013, 5, 24));
  EXPECT_EQ(sig.signed_headers, "host;x-amz-meta-b");
  EXPECT_NE(sig.canonical_request.find("\nhost:h\nx-amz-meta-b:two words,x\n\n"), std::string::npos);
}

TEST(Sigv4S3, AmzDate) {
  EXPECT_EQ(amz_date(at(2015, 8, 30, 12, 36, 0)), "20150830T123600Z");
  EXPECT_EQ(amz_date(at(2015, 8, 30, 12, 36, 0) + std::chrono::milliseconds(999)), "20150830T123600Z");
  EXPECT_EQ(amz_date(at(2024, 2, 29, 23, 59, 59)), "20240229T235959Z");
  EXPECT_EQ(amz_date(Clock::time_point{}), "19700101T000000Z");
}

TEST(Sigv4S3, Sha256Hex) {
  EXPECT_EQ(sha256_hex(""), kEmptyHash);
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace s3reconcile::s3
