#include "service.h"

#include <charconv>
#include <mutex>

#include <fmt/format.h>

#include "http_date.h"
#include "s3_xml.h"

namespace s3r_synthetic {
namespace {

constexpr int kMaxKeysCap = 1000;            // S3 never returns more per page
constexpr std::size_t kMaxKeyLength = 1024;  // S3's limit, in bytes

const std::string* find_param(const Fields& query, std::string_view name) {
  for (const auto& [n, v] : query) {
    if (n == name) return &v;
  }
  return nullptr;
}

// S3's rules, loosely: 3-63 of a-z 0-9 . -
bool valid_bucket_name(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  }
  return true;
}

}  // namespace

struct Service::Call {
  const Request& request;
  std::string request_id;
  std::string bucket;
  std::string key;
  Fields query;

  Response reply(int status, std::string body = {}, std::string content_type = "application/xml") const {
    Response r;
    r.status = status;
    r.headers = {{"x-amz-request-id", request_id}, {"Server", "s3r-synthetic-s3"}};
    if (!body.empty()) r.headers.emplace_back("Content-Type", std::move(content_type));
    r.body = std::move(body);
    return r;
  }
  // An S3 <Error>; HEAD answers carry no body, as S3's do not.
  Response error(int status, std::string_view code, std::string_view message) const {
    if (request.method == "HEAD") return reply(status);
    const std::string resource = key.empty() ? "/" + bucket : "/" + bucket + "/" + key;
    return reply(status, error_xml(code, message, resource, request_id));
  }
  Response no_such_bucket() const { return error(404, "NoSuchBucket", "The specified bucket does not exist"); }
  Response not_implemented() const {
    return error(501, "NotImplemented", "The synthetic S3 endpoint does not implement this request");
  }
};

Service::Service(AuthConfig auth, const std::string& generated_bucket, KeySpace generated) : auth_(std::move(auth)) {
  buckets_.emplace(generated_bucket, std::make_shared<Bucket>(std::move(generated)));
}

std::shared_ptr<Bucket> Service::find(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = buckets_.find(name);
  return it == buckets_.end() ? nullptr : it->second;
}

void Service::issue_session_credentials(std::chrono::milliseconds lifetime) {
  sessions_ = std::make_unique<SessionCredentials>(auth_.secret_key, lifetime);
}

std::optional<AuthFailure> Service::authenticate(const Request& request) const {
  if (sessions_) {
    const std::string* authorization = request.header("Authorization");
    const auto from = authorization ? authorization->find("Credential=") : std::string::npos;
    if (from != std::string::npos) {
      const std::string key = authorization->substr(from + 11, authorization->find('/', from) - from - 11);
      if (SessionCredentials::issued_key(key)) {
        if (auto failure = check_sigv4(request, AuthConfig{key, sessions_->secret_for(key), auth_.region})) {
          return failure;
        }
        return sessions_->check_token(key, request.header("x-amz-security-token"), s3reconcile::Clock::now());
      }
    }
  }
  return check_sigv4(request, auth_);
}

Response Service::handle(const Request& request) {
  Call call{request, fmt::format("{:016X}", ++requests_), {}, {}, {}};
  if (sessions_ && request.method == "GET" && request.raw_path == "/_credentials") {
    return call.reply(200, sessions_->issue_json(s3reconcile::Clock::now()), "application/json");
  }
  if (request.method == "GET" && request.raw_path == "/_stats") {
    return call.reply(200, fmt::format(R"({{"requests":{},"refused":{}}})", requests_.load(), refused_.load()),
                      "application/json");
  }
  if (auto failure = authenticate(request)) {
    ++refused_;
    return call.error(failure->status, failure->code, failure->message);
  }

  const auto path = decode_path(request.raw_path);
  auto query = parse_query(request.raw_query);
  if (!path || !path->starts_with('/') || !query)
    return call.error(400, "InvalidURI", "Couldn't parse the specified URI.");
  call.query = std::move(*query);
  const std::string_view rest = std::string_view(*path).substr(1);
  const std::size_t slash = rest.find('/');
  call.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) call.key = std::string(rest.substr(slash + 1));

  if (call.bucket.empty()) {  // ListBuckets
    if (request.method != "GET") return call.not_implemented();
    std::vector<std::string> names;
    {
      std::shared_lock lock(mu_);
      for (const auto& [name, bucket] : buckets_) names.push_back(name);
    }
    return call.reply(200, list_buckets_xml(names, auth_.access_key));
  }
  return call.key.empty() ? bucket_request(call) : object_request(call);
}

Response Service::bucket_request(Call& call) {
  const std::string& method = call.request.method;
  if (method == "PUT") {
    if (!call.query.empty()) return call.not_implemented();  // ?acl, ?versioning, ...
    if (!valid_bucket_name(call.bucket))
      return call.error(400, "InvalidBucketName", "The specified bucket is not valid.");
    std::unique_lock lock(mu_);
    // Creating a bucket one already owns succeeds, as in us-east-1.
    buckets_.try_emplace(call.bucket, std::make_shared<Bucket>());
    Response r = call.reply(200);
    r.headers.emplace_back("Location", "/" + call.bucket);
    return r;
  }
  if (method == "DELETE") {
    std::unique_lock lock(mu_);
    auto it = buckets_.find(call.bucket);
    if (it == buckets_.end()) return call.no_such_bucket();
    if (!it->second->empty()) return call.error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty");
    buckets_.erase(it);
    return call.reply(204);
  }
  const std::shared_ptr<Bucket> bucket = find(call.bucket);
  if (!bucket) return call.no_such_bucket();
  if (method == "HEAD") return call.reply(200);
  if (method != "GET") return call.not_implemented();
  if (find_param(call.query, "location")) {
    // us-east-1 is reported as an empty constraint, as S3 does.
    const std::string region = auth_.region == "us-east-1" ? "" : auth_.region;
    return call.reply(200, fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint "
                                       "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{}</LocationConstraint>",
                                       xml_escape(region)));
  }
  const std::string* list_type = find_param(call.query, "list-type");
  if (!list_type || *list_type != "2") return call.not_implemented();  // ListObjects v1 and the rest
  return list_objects_v2(call, *bucket);
}

Response Service::list_objects_v2(Call& call, const Bucket& bucket) {
  ListEcho echo;
  echo.bucket = call.bucket;
  ListQuery& q = echo.query;
  if (auto v = find_param(call.query, "prefix")) q.prefix = *v;
  if (auto v = find_param(call.query, "delimiter")) q.delimiter = *v;
  if (auto v = find_param(call.query, "start-after")) q.start_after = *v;
  if (auto v = find_param(call.query, "max-keys")) {
    int n = -1;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || end != v->data() + v->size() || n < 0) {
      return call.error(400, "InvalidArgument", "Provided max-keys not an integer or within integer range");
    }
    q.max_keys = std::min(n, kMaxKeysCap);
  } else {
    q.max_keys = kMaxKeysCap;
  }
  if (auto v = find_param(call.query, "encoding-type")) {
    if (*v != "url") return call.error(400, "InvalidArgument", "Invalid Encoding Method specified in Request");
    echo.url_encoding = true;
  }
  if (auto v = find_param(call.query, "continuation-token")) {
    q.position = decode_token(*v);
    if (!q.position) return call.error(400, "InvalidArgument", "The continuation token provided is incorrect");
    echo.continuation_token = *v;
    echo.has_continuation_token = true;
  }
  return call.reply(200, list_objects_v2_xml(echo, bucket.list(q)));
}

Response Service::object_request(Call& call) {
  const std::string& method = call.request.method;
  const std::shared_ptr<Bucket> bucket = find(call.bucket);
  if (!bucket) return call.no_such_bucket();
  if (call.key.size() > kMaxKeyLength) {
    return call.error(400, "KeyTooLongError", "Your key is too long");
  }
  // Sub-resources (?uploads, ?tagging, ?acl, ...) and copies are not modelled.
  if (!call.query.empty() || call.request.header("x-amz-copy-source")) return call.not_implemented();

  const auto describe = [&](Response& r, const ObjectInfo& o) {
    r.headers.emplace_back("ETag", o.etag);
    r.headers.emplace_back("Last-Modified", rfc1123_from_iso8601(o.last_modified));
  };
  if (method == "HEAD") {
    auto info = bucket->head(call.key);
    if (!info) return call.error(404, "NoSuchKey", "The specified key does not exist.");
    Response r = call.reply(200);
    describe(r, *info);
    r.headers.emplace_back("Content-Type", "application/octet-stream");
    r.content_length = info->size;
    return r;
  }
  if (method == "GET") {
    auto object = bucket->get(call.key);
    if (!object) return call.error(404, "NoSuchKey", "The specified key does not exist.");
    Response r = call.reply(200, std::move(object->second), "application/octet-stream");
    describe(r, object->first);
    return r;
  }
  if (method == "PUT") {
    const std::string etag = bucket->put(call.key, call.request.body, iso8601(s3reconcile::Clock::now()));
    Response r = call.reply(200);
    r.headers.emplace_back("ETag", etag);
    return r;
  }
  if (method == "DELETE") {
    bucket->remove(call.key);
    return call.reply(204);
  }
  return call.not_implemented();
}

}  // namespace s3r_synthetic
