// The `s3` backend: a bucket on any S3-compatible service.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "s3reconcile/hidden_storage.h"
#include "s3reconcile/object_lister.h"
#include "s3reconcile/object_prober.h"

namespace s3reconcile {

enum class S3Addressing {
  kVirtual,  // https://bucket.host/key
  kPath,     // https://host/bucket/key
};

// Where credentials come from (see README "Credentials, region and
// endpoint"). With nothing set, the AWS default chain: environment, web
// identity, shared files, container, instance metadata. Secrets themselves
// never appear in a config, a log or an error.
struct S3CredentialSource {
  // "" or "chain": the default chain; or one source only: "environment",
  // "web_identity", "profile", "container", "instance_metadata".
  std::string source;
  std::string profile;         // a profile of the shared files (implies source "profile")
  std::string access_key_env;  // names of environment variables to read
  std::string secret_key_env;
  std::string session_token_env;  // optional
  // web_identity without the AWS_* variables: the role and the token file.
  std::string role_arn;
  std::string web_identity_token_file;
  std::string role_session_name;
};

// One attempt of one S3 request, as the backend saw it.
struct S3RequestEvent {
  std::string_view operation;  // "ListObjectsV2", "HeadObject", ...
  long http_status = 0;        // 0: no answer (connection failed, timed out, cancelled)
  std::uint64_t bytes_received = 0;
  std::chrono::nanoseconds elapsed{0};
  bool retried = false;  // another attempt of the same request follows
};

// Hears of every S3 request attempt a backend makes, for metrics. Called
// from the threads that make them, several at once.
class S3RequestObserver {
 public:
  virtual ~S3RequestObserver() = default;
  virtual void on_request(const S3RequestEvent& event) = 0;
};

struct S3BackendOptions {
  // "https://s3.us-east-1.amazonaws.com", "http://127.0.0.1:7480", ...;
  // "" = AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's, else AWS's.
  std::string endpoint;
  // "" = AWS_REGION, AWS_DEFAULT_REGION, the profile's; required for AWS.
  std::string region;
  std::string bucket;  // the physical bucket
  S3Addressing addressing = S3Addressing::kVirtual;
  S3CredentialSource credentials;
  // ListObjectsV2 max-keys (1..1000).
  std::size_t page_size = 1000;
  // Truncated pages holding no key, in a row, before a walk gives up: a
  // server may send a few (keys hidden by delete markers), but one that
  // sends them without end would keep a pass listing for ever.
  std::size_t max_empty_pages = 1000;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{60000};
  // Attempts per request (first included) on 5xx, SlowDown, RequestTimeout,
  // connection failures and timeouts; backoff is exponential with full jitter.
  int max_attempts = 5;
  std::chrono::milliseconds retry_base_delay{200};
  std::chrono::milliseconds retry_max_delay{20000};
  // TLS: verified unless `insecure_skip_tls_verify`; `ca_bundle` adds a PEM file.
  std::string ca_bundle;
  bool insecure_skip_tls_verify = false;
  // Told of each request attempt. Optional.
  std::shared_ptr<S3RequestObserver> observer;
};

// Lists with ListObjectsV2 (encoding-type=url, continuation tokens, one
// keep-alive connection per walk) and probes with HeadObject, signing every
// request with AWS Signature Version 4. Safe to use from several threads:
// each walk has its own connection; probes share one under a lock.
class S3Backend final : public ObjectLister, public ObjectProber {
 public:
  // Checks the options, resolves region, endpoint and the credential
  // source, and fetches credentials; no S3 request is sent yet.
  static StatusOr<std::unique_ptr<S3Backend>> open(S3BackendOptions options);

  // What open() resolves, without fetching anything: INVALID_ARGUMENT when
  // a setting cannot work (no region for AWS, an endpoint that is not a
  // URL, a profile that contradicts itself), naming it.
  static Status validate(const S3BackendOptions& options);
  ~S3Backend() override;

  // A failure names the endpoint, bucket, operation, page, HTTP status, S3
  // error code and message (and request id). A page claiming more keys
  // without a continuation token, a repeated token, a key outside the
  // prefix or out of order, or a body that does not parse is an error, never
  // an end of the listing.
  Status list(const ListRequest& request, const PageCallback& on_page, std::stop_token stop) override;

  // One ListObjectsV2 page with a delimiter: its CommonPrefixes and keys.
  StatusOr<std::vector<std::string>> list_top_level(const std::string& prefix, char delimiter,
                                                    std::stop_token stop) override;

  // HeadObject: 200 is present, 404 absent; anything else is an error.
  // Safe to call from several threads at once: each probe takes its own
  // kept-alive connection.
  StatusOr<std::optional<ObjectInfo>> probe(std::string_view storage_key, std::stop_token stop) override;

  // The HEADs at once, from the calling thread (one libcurl multi handle,
  // its connections kept for the next call). A key whose answer is not a
  // plain 200 or 404 (a 5xx, a dropped connection, an expired session
  // token) is asked again through probe(), with its retries; the request
  // observer sees the first attempt as retried then.
  std::vector<StatusOr<std::optional<ObjectInfo>>> probe_many(std::span<const std::string> keys,
                                                              std::stop_token stop) override;
  bool probes_many_at_once() const override { return true; }

  // The bucket's versions, delete markers and incomplete uploads (`survey`),
  // through this backend's signing, retries and checks. Valid while the
  // backend lives.
  std::unique_ptr<HiddenStorageLister> hidden_storage();

  // Connections opened so far (for tests of keep-alive).
  long connections_opened() const;

  // What the backend resolved, for `check --explain-credentials`: no secret.
  struct Setup {
    std::string credentials;                      // the source the chain picked
    std::optional<Clock::time_point> expiration;  // of the credentials in use
    int refreshes = 0;                            // since open()
    std::string region, region_source;
    std::string endpoint, endpoint_source;
  };
  Setup setup() const;

 private:
  struct Impl;
  explicit S3Backend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace s3reconcile
