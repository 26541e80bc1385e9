#include "sigv4_check.h"

#include <strings.h>

#include <chrono>

#include <fmt/format.h>

#include "s3/sigv4.h"

namespace s3r_synthetic {
namespace {

namespace s3 = s3reconcile::s3;

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

// "20260101T000000Z" -> a time point; nullopt when malformed.
std::optional<s3reconcile::Clock::time_point> parse_amz_date(std::string_view t) {
  if (t.size() != 16 || t[8] != 'T' || t[15] != 'Z') return std::nullopt;
  const auto num = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  const auto y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2), s = num(13, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  using namespace std::chrono;
  const year_month_day date{year{*y}, month(static_cast<unsigned>(*mo)), day(static_cast<unsigned>(*d))};
  if (!date.ok()) return std::nullopt;
  return s3reconcile::Clock::time_point(sys_days(date).time_since_epoch() + hours(*h) + minutes(*mi) + seconds(*s));
}

AuthFailure malformed(std::string message) {
  return AuthFailure{400, "AuthorizationHeaderMalformed", std::move(message)};
}

}  // namespace

std::optional<AuthFailure> check_sigv4(const Request& request, const AuthConfig& auth) {
  return check_sigv4(request, SignatureRules{[&](std::string_view key) -> std::optional<std::string> {
                                               if (key != auth.access_key) return std::nullopt;
                                               return auth.secret_key;
                                             },
                                             auth.region});
}

std::optional<AuthFailure> check_sigv4(const Request& request, const SignatureRules& rules) {
  const std::string* authorization = request.header("authorization");
  if (!authorization)
    return AuthFailure{403, "AccessDenied", "Anonymous access is not allowed (no Authorization header)"};
  constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256 ";
  if (!std::string_view(*authorization).starts_with(kAlgorithm)) {
    return AuthFailure{400, "InvalidRequest", "Only AWS4-HMAC-SHA256 header signatures are supported"};
  }

  // Credential=AK/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex
  std::string_view credential, signed_headers, signature;
  for (std::string_view field : split(std::string_view(*authorization).substr(kAlgorithm.size()), ',')) {
    field = trim(field);
    const std::size_t eq = field.find('=');
    if (eq == std::string_view::npos) return malformed(fmt::format("bad field '{}'", field));
    const std::string_view name = field.substr(0, eq), value = field.substr(eq + 1);
    if (name == "Credential") credential = value;
    if (name == "SignedHeaders") signed_headers = value;
    if (name == "Signature") signature = value;
  }
  const auto scope = split(credential, '/');
  if (scope.size() != 5 || scope[4] != "aws4_request" || signed_headers.empty() || signature.empty()) {
    return malformed(
        "the Authorization header needs Credential=AK/DATE/REGION/SERVICE/aws4_request, "
        "SignedHeaders and Signature");
  }
  const std::optional<std::string> secret = rules.secret_for(scope[0]);
  if (!secret) {
    return AuthFailure{403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."};
  }
  if (scope[2] != rules.region) {
    return malformed(fmt::format("the region '{}' is wrong; expecting '{}'", scope[2], rules.region));
  }
  if (scope[3] != rules.service) {
    return malformed(fmt::format("the service '{}' is wrong; expecting '{}'", scope[3], rules.service));
  }

  const std::string* amz_date = request.header("x-amz-date");
  const auto when = amz_date ? parse_amz_date(*amz_date) : std::nullopt;
  if (!when) return AuthFailure{403, "AccessDenied", "AWS authentication requires a valid x-amz-date header"};

  // S3 wants the payload hash as a header; a signed one must be the body's.
  const std::string body_hash = s3::sha256_hex(request.body);
  const std::string* payload_hash = request.header("x-amz-content-sha256");
  if (!payload_hash && !rules.payload_hash_header) payload_hash = &body_hash;
  if (!payload_hash) {
    return AuthFailure{400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"};
  }
  if (*payload_hash != "UNSIGNED-PAYLOAD" && *payload_hash != body_hash) {
    return AuthFailure{400, "XAmzContentSHA256Mismatch",
                       "The provided 'x-amz-content-sha256' header does not match what was computed."};
  }

  s3::RequestToSign to_sign{request.method, request.raw_path, {}, {}, *payload_hash};
  auto query = parse_query(request.raw_query);
  if (!query) return AuthFailure{400, "InvalidArgument", "bad %-escape in the query string"};
  to_sign.query = std::move(*query);
  // Only the headers the client signed, each with every value it sent.
  for (std::string_view name : split(signed_headers, ';')) {
    bool found = false;
    for (const auto& [n, v] : request.headers) {
      if (n.size() == name.size() && ::strncasecmp(n.data(), name.data(), n.size()) == 0) {
        to_sign.headers.emplace_back(std::string(name), v);
        found = true;
      }
    }
    if (!found) return malformed(fmt::format("signed header '{}' is not in the request", name));
  }

  const s3::Signature expected =
      s3::sign_v4(to_sign, s3::Credentials{std::string(scope[0]), *secret, ""}, rules.region, rules.service, *when);
  // Plain comparison: a loopback test endpoint has no timing side channel worth closing.
  if (expected.signature != signature) {
    return AuthFailure{403, "SignatureDoesNotMatch",
                       "The request signature we calculated does not match the signature you provided. "
                       "Check your key and signing method."};
  }
  return std::nullopt;
}

}  // namespace s3r_synthetic
