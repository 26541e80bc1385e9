// In-process fakes of the services that hand out AWS credentials (STS, the
// EC2 instance metadata service, an ECS/EKS container endpoint) and an S3
// bucket that checks every signature, refusing what AWS refuses: an unknown
// key, a wrong region, a bad signature, an expired or unknown session token.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include "s3/list_xml.h"
#include "s3/sigv4.h"
#include "s3reconcile/time_format.h"
#include "support/fake_http_server.h"
#include "support/fake_s3.h"
#include "support/synthetic_request.h"

namespace s3reconcile::testing {

// Credentials the fakes issue and the fake S3 accepts, while they last.
class CredentialIssuer {
 public:
  explicit CredentialIssuer(std::string prefix) : prefix_(std::move(prefix)) {}

  struct Issued {
    s3::Credentials credentials;
    Clock::time_point expiration;
  };

  Issued issue(std::chrono::milliseconds lifetime) {
    std::lock_guard lock(mu_);
    const int n = ++count_;
    Issued i{{fmt::format("{}KEY{}", prefix_, n), fmt::format("{}-secret-{}", prefix_, n),
              fmt::format("{}-token-{}", prefix_, n)},
             Clock::now() + lifetime};
    issued_[i.credentials.access_key_id] = i;
    return i;
  }
  // A static key pair the fake S3 accepts without a token.
  void allow(const std::string& key, const std::string& secret) {
    std::lock_guard lock(mu_);
    issued_[key] = Issued{{key, secret, ""}, Clock::time_point::max()};
  }
  std::map<std::string, std::string> secrets() const {
    std::lock_guard lock(mu_);
    std::map<std::string, std::string> out;
    for (const auto& [k, i] : issued_) out[k] = i.credentials.secret_access_key;
    return out;
  }
  std::optional<Issued> find(const std::string& key) const {
    std::lock_guard lock(mu_);
    const auto it = issued_.find(key);
    if (it == issued_.end()) return std::nullopt;
    return it->second;
  }
  int count() const {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::string prefix_;
  mutable std::mutex mu_;
  int count_ = 0;                         // guarded by mu_
  std::map<std::string, Issued> issued_;  // guarded by mu_
};

// The JSON the container endpoint, IMDS and credential_process answer with.
inline std::string credentials_json(const CredentialIssuer::Issued& i, const char* token_field = "Token") {
  return fmt::format(R"({{"Code":"Success","AccessKeyId":"{}","SecretAccessKey":"{}","{}":"{}","Expiration":"{}"}})",
                     i.credentials.access_key_id, i.credentials.secret_access_key, token_field,
                     i.credentials.session_token, iso8601_utc_micros(i.expiration));
}

inline std::map<std::string, std::string> parse_form(const std::string& body) {
  std::map<std::string, std::string> out;
  std::size_t from = 0;
  while (from <= body.size()) {
    const auto amp = std::min(body.find('&', from), body.size());
    const std::string pair = body.substr(from, amp - from);
    const auto eq = pair.find('=');
    if (eq != std::string::npos) {
      out[*s3::url_decode(pair.substr(0, eq), true)] = *s3::url_decode(pair.substr(eq + 1), true);
    }
    from = amp + 1;
  }
  return out;
}

// STS: AssumeRoleWithWebIdentity (unsigned, token checked) and AssumeRole
// (signed for service sts by a key of `signers`).
class FakeSts {
 public:
  FakeSts(CredentialIssuer& issuer, std::chrono::milliseconds lifetime)
      : issuer_(issuer), lifetime_(lifetime), server_([this](const FakeRequest& r) { return handle(r); }) {}

  std::string endpoint() const { return server_.endpoint(); }
  std::string expected_token;           // AssumeRoleWithWebIdentity's WebIdentityToken
  CredentialIssuer* signers = nullptr;  // who may sign AssumeRole
  std::string region = "us-east-1";

  std::vector<std::map<std::string, std::string>> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  FakeResponse refuse(int status, const std::string& code, const std::string& message) {
    return FakeResponse{status,
                        fmt::format("<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}"
                                    "</Message></Error><RequestId>r</RequestId></ErrorResponse>",
                                    code, message),
                        {}};
  }
  FakeResponse handle(const FakeRequest& r) {
    auto form = parse_form(r.body);
    {
      std::lock_guard lock(mu_);
      calls_.push_back(form);
    }
    const auto type = r.headers.find("content-type");
    if (r.method != "POST" || type == r.headers.end() || type->second.find("application/x-www-form-urlencoded") != 0) {
      return refuse(400, "InvalidRequest", "POST a form");
    }
    if (form["Version"] != "2011-06-15" || form["RoleArn"].empty() || form["RoleSessionName"].empty()) {
      return refuse(400, "MissingParameter", "Version, RoleArn and RoleSessionName are required");
    }
    const std::string action = form["Action"];
    if (action == "AssumeRoleWithWebIdentity") {
      if (r.headers.count("authorization") != 0) return refuse(400, "InvalidRequest", "must not be signed");
      if (form["WebIdentityToken"] != expected_token) return refuse(400, "InvalidIdentityToken", "bad token");
    } else if (action == "AssumeRole") {
      if (signers == nullptr) return refuse(403, "AccessDenied", "no signer");
      if (auto refused = check_signature(r, signers->secrets(), region, "sts")) {
        return refuse(refused->status, refused->code, refused->message);
      }
    } else {
      return refuse(400, "InvalidAction", action);
    }
    const auto i = issuer_.issue(lifetime_);
    return FakeResponse{200,
                        fmt::format("<{0}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{0}Result>"
                                    "<Credentials><AccessKeyId>{1}</AccessKeyId><SecretAccessKey>{2}"
                                    "</SecretAccessKey><SessionToken>{3}</SessionToken><Expiration>{4}"
                                    "</Expiration></Credentials></{0}Result></{0}Response>",
                                    action, i.credentials.access_key_id, i.credentials.secret_access_key,
                                    i.credentials.session_token, iso8601_utc_micros(i.expiration)),
                        {}};
  }

  CredentialIssuer& issuer_;
  std::chrono::milliseconds lifetime_;
  mutable std::mutex mu_;
  std::vector<std::map<std::string, std::string>> calls_;  // guarded by mu_
  FakeHttpServer server_;
};

// IMDSv2: a PUT for a token first; every GET without it is 401.
class FakeImds {
 public:
  FakeImds(CredentialIssuer& issuer, std::string role)
      : issuer_(issuer), role_(std::move(role)), server_([this](const FakeRequest& r) { return handle(r); }) {}
  std::string endpoint() const { return server_.endpoint(); }
  std::atomic<int> refused_without_token{0};

 private:
  FakeResponse handle(const FakeRequest& r) {
    if (r.method == "PUT" && r.path == "/latest/api/token") {
      if (r.headers.count("x-aws-ec2-metadata-token-ttl-seconds") == 0) return FakeResponse{400, "", {}};
      return FakeResponse{200, "imds-session-token-7", {}};
    }
    const auto token = r.headers.find("x-aws-ec2-metadata-token");
    if (token == r.headers.end() || token->second != "imds-session-token-7") {
      ++refused_without_token;
      return FakeResponse{401, "", {}};
    }
    const std::string base = "/latest/meta-data/iam/security-credentials/";
    if (r.path == base) return role_.empty() ? FakeResponse{404, "", {}} : FakeResponse{200, role_, {}};
    if (!role_.empty() && r.path == base + role_)
      return FakeResponse{200, credentials_json(issuer_.issue(std::chrono::hours(6))), {}};
    return FakeResponse{404, "", {}};
  }
  CredentialIssuer& issuer_;
  std::string role_;
  FakeHttpServer server_;
};

// An ECS / EKS Pod Identity endpoint: GET /creds with the Authorization token.
class FakeContainerEndpoint {
 public:
  FakeContainerEndpoint(CredentialIssuer& issuer, std::string token, std::chrono::milliseconds lifetime)
      : issuer_(issuer),
        token_(std::move(token)),
        lifetime_(lifetime),
        server_([this](const FakeRequest& r) { return handle(r); }) {}
  std::string url() const { return server_.endpoint() + "/creds"; }
  int requests() const { return server_.requests(); }
  // From now on every fetch fails (HTTP 500), as an agent that went away.
  void break_down() { broken_ = true; }

 private:
  FakeResponse handle(const FakeRequest& r) {
    const auto auth = r.headers.find("authorization");
    if (r.path != "/creds") return FakeResponse{404, "", {}};
    if (broken_) return FakeResponse{500, "{}", {}};
    if (!token_.empty() && (auth == r.headers.end() || auth->second != token_)) return FakeResponse{401, "{}", {}};
    return FakeResponse{200, credentials_json(issuer_.issue(lifetime_)), {}};
  }
  CredentialIssuer& issuer_;
  std::string token_;
  std::chrono::milliseconds lifetime_;
  std::atomic<bool> broken_{false};
  FakeHttpServer server_;
};

// A bucket (FakeS3Bucket) behind a server that checks each request's
// signature, region and session token, as AWS does; `delay` per request.
class CheckingS3 {
 public:
  CheckingS3(CredentialIssuer& issuer, std::string region)
      : issuer_(issuer), region_(std::move(region)), server_([this](const FakeRequest& r) { return handle(r); }) {}
  FakeS3Bucket bucket;
  std::chrono::milliseconds delay{0};
  std::atomic<int> refused{0};
  std::atomic<int> served{0};
  std::string endpoint() const { return server_.endpoint(); }
  std::string last_refusal() const {
    std::lock_guard lock(mu_);
    return last_refusal_;
  }
  // Answers the next requests signed with `key` ExpiredToken, whatever its expiry.
  void expire_now(const std::string& key) {
    std::lock_guard lock(mu_);
    expired_early_.insert(key);
  }

 private:
  FakeResponse refuse(int status, const std::string& code, const std::string& message) {
    ++refused;
    std::lock_guard lock(mu_);
    last_refusal_ = code;
    return FakeResponse{status, fmt::format("<Error><Code>{}</Code><Message>{}</Message></Error>", code, message), {}};
  }
  FakeResponse handle(const FakeRequest& r) {
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    if (auto refused = check_signature(r, issuer_.secrets(), region_, "s3")) {
      return refuse(refused->status, refused->code, refused->message);
    }
    const std::string auth = r.headers.at("authorization");
    const auto from = auth.find("Credential=") + 11;
    const auto issued = issuer_.find(auth.substr(from, auth.find('/', from) - from));
    const auto token = r.headers.find("x-amz-security-token");
    const std::string sent = token == r.headers.end() ? "" : token->second;
    if (sent != issued->credentials.session_token) return refuse(403, "InvalidToken", "the token does not match");
    bool early;
    {
      std::lock_guard lock(mu_);
      early = expired_early_.count(issued->credentials.access_key_id) != 0;
    }
    if (early || Clock::now() >= issued->expiration) {
      return refuse(400, "ExpiredToken", "The provided token has expired.");
    }
    ++served;
    return bucket.handle(r);
  }
  CredentialIssuer& issuer_;
  std::string region_;
  mutable std::mutex mu_;
  std::string last_refusal_;             // guarded by mu_
  std::set<std::string> expired_early_;  // guarded by mu_
  FakeHttpServer server_;
};

// Clears every AWS_* variable (and sets HOME) for one test; restores all at the end.
class ScopedAwsEnvironment {
 public:
  explicit ScopedAwsEnvironment(const std::string& home) {
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry(*e);
      const auto eq = entry.find('=');
      const std::string name = entry.substr(0, eq);
      if (name.starts_with("AWS_") || name == "HOME") saved_.emplace_back(name, entry.substr(eq + 1));
    }
    for (const auto& [name, value] : saved_) ::unsetenv(name.c_str());
    ::setenv("HOME", home.c_str(), 1);
  }
  ~ScopedAwsEnvironment() {
    std::vector<std::string> now;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry(*e);
      const std::string name = entry.substr(0, entry.find('='));
      if (name.starts_with("AWS_") || name == "HOME") now.push_back(name);
    }
    for (const auto& name : now) ::unsetenv(name.c_str());
    for (const auto& [name, value] : saved_) ::setenv(name.c_str(), value.c_str(), 1);
  }
  void set(const std::string& name, const std::string& value) { ::setenv(name.c_str(), value.c_str(), 1); }

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
};

}  // namespace s3reconcile::testing
