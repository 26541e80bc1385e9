#include "s3/sigv4.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>

#include <fmt/format.h>

namespace s3reconcile::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0x0F];
  }
  return out;
}

// SHA-256 and HMAC-SHA256, fetched from OpenSSL's default provider once.
// HMAC() and EVP_sha256() look their algorithm up by name on every call (an
// implicit fetch: a lock and a search of the provider's tables), and so does
// an HMAC context told its digest by name; that was a quarter of signing a
// request. Fetched algorithms are immutable and shared between threads; each
// HMAC copies a context that already holds its digest. Never freed: OpenSSL's
// own exit handler may run first.
struct Algorithms {
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MAC_CTX* hmac_sha256 = nullptr;  // keyless: copied, then keyed, per use

  Algorithms() {
    EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (hmac == nullptr) return;
    hmac_sha256 = EVP_MAC_CTX_new(hmac);
    EVP_MAC_free(hmac);  // the context holds its own reference
    char digest_name[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                                 OSSL_PARAM_construct_end()};
    if (hmac_sha256 != nullptr && EVP_MAC_CTX_set_params(hmac_sha256, params) != 1) {
      EVP_MAC_CTX_free(hmac_sha256);
      hmac_sha256 = nullptr;
    }
  }
};

const Algorithms& algorithms() {
  static const Algorithms fetched;
  // Only a broken OpenSSL installation lacks them: no request could be signed.
  if (fetched.sha256 == nullptr || fetched.hmac_sha256 == nullptr) std::abort();
  return fetched;
}

// Raw 32-byte HMAC-SHA256. OpenSSL fails here only when it cannot allocate;
// a signer that silently produced a wrong signature would be worse than
// stopping, so that is fatal.
std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t size = 0;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(algorithms().hmac_sha256);
  const bool done = ctx != nullptr &&
                    EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr) == 1 &&
                    EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
                    EVP_MAC_final(ctx, out, &size, sizeof(out)) == 1;
  EVP_MAC_CTX_free(ctx);
  if (!done) std::abort();
  return std::string(reinterpret_cast<const char*>(out), size);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// SigV4 header value: trimmed, every inner run of whitespace (including the
// line breaks of a folded value) made one space.
std::string canonical_header_value(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out, &size, algorithms().sha256, nullptr) != 1) std::abort();
  return hex(out, size);
}

std::string amz_date(Clock::time_point when) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(when);
  const auto day = std::chrono::floor<std::chrono::days>(seconds);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{seconds - day};
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count());
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0x0F];
    }
  }
  return out;
}

std::string canonical_query(const NameValues& query) {
  // Sorted after encoding: the order AWS compares is that of the encoded bytes.
  NameValues encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

namespace {

// The key a day's requests are signed with: four HMACs of the secret, the
// same for every request of the day, region and service. Kept per thread
// (no lock), derived again when any of them changes (a new day, rotated
// credentials).
const std::string& signing_key(const std::string& secret, std::string_view date, std::string_view region,
                               std::string_view service) {
  struct Derived {
    std::string secret, date, region, service, key;
  };
  thread_local Derived last;
  if (last.key.empty() || last.secret != secret || last.date != date || last.region != region ||
      last.service != service) {
    std::string key = hmac_sha256("AWS4" + secret, date);
    key = hmac_sha256(key, region);
    key = hmac_sha256(key, service);
    last =
        Derived{secret, std::string(date), std::string(region), std::string(service), hmac_sha256(key, "aws4_request")};
  }
  return last.key;
}

}  // namespace

Signature sign_v4(const RequestToSign& request, const Credentials& credentials, std::string_view region,
                  std::string_view service, Clock::time_point when) {
  // Repeated names keep the order the caller gave their values in.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    auto [it, inserted] = headers.try_emplace(lowercase(name), canonical_header_value(value));
    if (!inserted) {
      it->second += ',';
      it->second += canonical_header_value(value);
    }
  }

  Signature sig;
  std::string canonical_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += fmt::format("{}:{}\n", name, value);
    if (!sig.signed_headers.empty()) sig.signed_headers += ';';
    sig.signed_headers += name;
  }

  sig.canonical_request =
      fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method, request.canonical_uri, canonical_query(request.query),
                  canonical_headers, sig.signed_headers, request.payload_hash);

  const std::string timestamp = amz_date(when);
  const std::string_view date = std::string_view(timestamp).substr(0, 8);
  const std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  sig.string_to_sign = fmt::format("{}\n{}\n{}\n{}", kAlgorithm, timestamp, scope, sha256_hex(sig.canonical_request));

  const std::string mac =
      hmac_sha256(signing_key(credentials.secret_access_key, date, region, service), sig.string_to_sign);
  sig.signature = hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());

  sig.authorization = fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm,
                                  credentials.access_key_id, scope, sig.signed_headers, sig.signature);
  return sig;
}

}  // namespace s3reconcile::s3
