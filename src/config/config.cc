#include "config/config.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "s3reconcile/buckets.h"

namespace s3reconcile::config {
namespace {

// One numeric IPv4 or bracketed IPv6 address and a port 1..65535: what the
// metrics server binds, and nothing it would read otherwise (a comma list
// binds several, a name may resolve anywhere).
bool valid_listen_address(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const long number = std::stol(port);
  if (number < 1 || number > 65535) return false;
  unsigned char address[16];
  if (host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    return ::inet_pton(AF_INET6, host.c_str(), address) == 1;
  }
  return ::inet_pton(AF_INET, host.c_str(), address) == 1;
}

// Reads one YAML mapping, remembering where it is so every error can name
// the file, line and field, and rejecting fields nobody asked for.
class Fields {
 public:
  Fields(const YAML::Node& node, std::string origin, std::string path)
      : node_(node), origin_(std::move(origin)), path_(std::move(path)) {}

  Status error_at(const YAML::Node& at, const std::string& field, const std::string& what) const {
    const auto mark = at.Mark();
    const int line = mark.line >= 0 ? mark.line + 1 : 0;
    return invalid_argument_error(fmt::format("{}:{}: {}: {}", origin_, line, field, what));
  }
  Status error(const std::string& what) const { return error_at(node_, path_.empty() ? "config" : path_, what); }

  std::string field_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  Status expect_map() const {
    if (!node_.IsMap()) return error("must be a mapping of fields");
    return ok_status();
  }

  // Every key present must be one of `known`.
  Status only(std::initializer_list<std::string_view> known) const {
    for (const auto& kv : node_) {
      const std::string key = kv.first.as<std::string>();
      bool found = false;
      for (auto k : known) found = found || key == k;
      if (!found) {
        std::string list;
        for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        return error_at(kv.first, field_path(key), fmt::format("unknown field (known: {})", list));
      }
    }
    return ok_status();
  }

  bool has(const std::string& key) const { return node_[key].IsDefined() && !node_[key].IsNull(); }
  YAML::Node get(const std::string& key) const { return node_[key]; }

  StatusOr<std::string> string(const std::string& key) const {
    const YAML::Node v = node_[key];
    if (!v.IsDefined() || v.IsNull()) return error(fmt::format("missing field {}", field_path(key)));
    if (!v.IsScalar()) return error_at(v, field_path(key), "must be a string");
    auto expanded = expand_env(v.Scalar());
    if (!expanded.ok()) return error_at(v, field_path(key), expanded.status().message());
    return expanded;
  }

  // Whether the two-way setting `key` says `yes` (rather than `no`); `fallback`
  // when absent. Anything else is an error naming both words.
  StatusOr<bool> either(const std::string& key, std::string_view yes, std::string_view no, bool fallback) const {
    if (!has(key)) return fallback;
    auto word = string(key);
    if (!word.ok()) return word.status();
    if (*word != yes && *word != no) {
      return error_at(get(key), field_path(key), fmt::format("must be {} or {}, not \"{}\"", yes, no, *word));
    }
    return *word == yes;
  }

  // A whole number from `least` to `most`, or `fallback` when absent.
  StatusOr<std::uint64_t> whole_number(const std::string& key, std::uint64_t fallback, std::uint64_t least,
                                       std::uint64_t most) const {
    const YAML::Node v = node_[key];
    if (!v.IsDefined() || v.IsNull()) return fallback;
    auto text = string(key);
    if (!text.ok()) return text.status();
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || errno != 0 || (*text)[0] == '-' || n < least || n > most) {
      const std::string range =
          most == UINT64_MAX ? fmt::format("{} or more", least) : fmt::format("from {} to {}", least, most);
      return error_at(v, field_path(key), fmt::format("must be a whole number {}, not \"{}\"", range, *text));
    }
    return static_cast<std::uint64_t>(n);
  }

  StatusOr<std::size_t> positive(const std::string& key, std::size_t fallback, std::size_t most) const {
    auto n = whole_number(key, fallback, 1, most);
    if (!n.ok()) return n.status();
    return static_cast<std::size_t>(*n);
  }

  StatusOr<std::uint64_t> count(const std::string& key, std::uint64_t fallback) const {
    return whole_number(key, fallback, 0, UINT64_MAX);
  }

  StatusOr<double> ratio(const std::string& key, double fallback) const {
    const YAML::Node v = node_[key];
    if (!v.IsDefined() || v.IsNull()) return fallback;
    auto text = string(key);
    if (!text.ok()) return text.status();
    char* end = nullptr;
    const double r = std::strtod(text->c_str(), &end);
    if (text->empty() || *end != '\0' || !(r > 0.0 && r <= 1.0)) {
      return error_at(v, field_path(key), fmt::format("must be a number above 0 and at most 1, not \"{}\"", *text));
    }
    return r;
  }

  StatusOr<bool> boolean(const std::string& key, bool fallback) const {
    const YAML::Node v = node_[key];
    if (!v.IsDefined() || v.IsNull()) return fallback;
    auto text = string(key);
    if (!text.ok()) return text.status();
    if (*text == "true") return true;
    if (*text == "false") return false;
    return error_at(v, field_path(key), fmt::format("must be true or false, not \"{}\"", *text));
  }

  StatusOr<std::chrono::milliseconds> duration(const std::string& key, std::chrono::milliseconds fallback) const {
    const YAML::Node v = node_[key];
    if (!v.IsDefined() || v.IsNull()) return fallback;
    auto text = string(key);
    if (!text.ok()) return text.status();
    auto d = parse_duration(*text);
    if (!d.ok()) return error_at(v, field_path(key), d.status().message());
    if (d->count() <= 0) return error_at(v, field_path(key), "must be more than zero");
    return d;
  }

  // A duration where "0" (no unit needed) turns the thing off.
  StatusOr<std::chrono::milliseconds> duration_or_off(const std::string& key,
                                                      std::chrono::milliseconds fallback) const {
    const YAML::Node v = node_[key];
    if (!v.IsDefined() || v.IsNull()) return fallback;
    auto text = string(key);
    if (!text.ok()) return text.status();
    if (*text == "0") return std::chrono::milliseconds(0);
    auto d = parse_duration(*text);
    if (!d.ok()) return error_at(v, field_path(key), d.status().message());
    return d;
  }

  StatusOr<std::vector<std::string>> string_list(const std::string& key) const {
    const YAML::Node v = node_[key];
    if (!v.IsSequence()) return error_at(v, field_path(key), "must be a list of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].IsScalar()) return error_at(v[i], fmt::format("{}[{}]", field_path(key), i), "must be a string");
      auto expanded = expand_env(v[i].Scalar());
      if (!expanded.ok()) return error_at(v[i], fmt::format("{}[{}]", field_path(key), i), expanded.status().message());
      out.push_back(std::move(*expanded));
    }
    return out;
  }

  const std::string& origin() const { return origin_; }
  const std::string& path() const { return path_; }

 private:
  const YAML::Node node_;
  const std::string origin_;
  const std::string path_;
};

std::string resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

Status load_buckets(const Fields& top, Config& config) {
  auto buckets = top.string_list("buckets");
  if (!buckets.ok()) return buckets.status();
  const YAML::Node node = top.get("buckets");
  if (buckets->empty()) return top.error_at(node, "buckets", "must name at least one virtual bucket");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < buckets->size(); ++i) {
    const std::string& b = (*buckets)[i];
    const std::string field = fmt::format("buckets[{}]", i);
    Status valid = validate_bucket_name(b);
    if (!valid.ok()) return top.error_at(node[i], field, valid.message());
    if (!seen.insert(b).second) return top.error_at(node[i], field, fmt::format("bucket \"{}\" is listed twice", b));
  }
  config.buckets = std::move(*buckets);
  return ok_status();
}

Status load_store(const Fields& top, const std::string& base_dir, Config& config) {
  if (!top.has("store")) return top.error("missing field store (sqlite: FILE or postgres: DSN)");
  Fields store(top.get("store"), top.origin(), "store");
  S3R_RETURN_IF_ERROR(store.expect_map());
  S3R_RETURN_IF_ERROR(store.only({"sqlite", "postgres", "pending_delete_query", "keep_pass_history"}));
  if (store.has("sqlite") == store.has("postgres")) {
    return store.error("must name exactly one store: sqlite: FILE or postgres: DSN");
  }
  if (store.has("pending_delete_query")) {
    auto query = store.string("pending_delete_query");
    if (!query.ok()) return query.status();
    if (query->find_first_not_of(" \t\r\n") == std::string::npos) {
      return store.error_at(store.get("pending_delete_query"), "store.pending_delete_query",
                            "must be a query, e.g. \"SELECT 1 FROM cleanup_queue WHERE storage_key = $1 AND "
                            "backend_name = $2\"");
    }
    config.store.pending_delete_query = std::move(*query);
  }
  auto keep = store.duration_or_off("keep_pass_history", config.store.keep_pass_history);
  if (!keep.ok()) return keep.status();
  config.store.keep_pass_history = *keep;
  if (store.has("postgres")) {
    const YAML::Node node = store.get("postgres");
    if (!node.IsScalar()) return store.error_at(node, "store.postgres", "must be a string (a libpq connection string)");
    // Not Fields::string: its errors quote the value, and this one may hold a password.
    auto dsn = expand_env(node.Scalar());
    if (!dsn.ok()) {
      std::string why = dsn.status().message();
      if (why.find(node.Scalar()) != std::string::npos) why = "a ${ is not closed with }";
      return store.error_at(node, "store.postgres", why);
    }
    if (dsn->find_first_not_of(" \t") == std::string::npos) {
      return store.error_at(node, "store.postgres", "must be a connection string, e.g. \"host=db dbname=index\"");
    }
    config.store.kind = StoreConfig::Kind::kPostgres;
    config.store.postgres_dsn = std::move(*dsn);
    return ok_status();
  }
  auto file = store.string("sqlite");
  if (!file.ok()) return file.status();
  if (file->empty()) return store.error_at(store.get("sqlite"), "store.sqlite", "must name a file");
  config.store.kind = StoreConfig::Kind::kSqlite;
  config.store.sqlite_path = resolve(*file, base_dir);
  return ok_status();
}

Status load_s3_fields(const Fields& b, const std::string& base_dir, S3BackendOptions& s3) {
  // Without endpoint: or region:, the AWS conventions fill them in when the
  // backend opens (AWS_ENDPOINT_URL, AWS_REGION, the profile, ...).
  if (b.has("endpoint")) {
    auto endpoint = b.string("endpoint");
    if (!endpoint.ok()) return endpoint.status();
    if (!endpoint->starts_with("http://") && !endpoint->starts_with("https://")) {
      return b.error_at(b.get("endpoint"), b.field_path("endpoint"),
                        fmt::format("must start with http:// or https://, not \"{}\"", *endpoint));
    }
    s3.endpoint = *endpoint;
  }
  if (b.has("region")) {
    auto region = b.string("region");
    if (!region.ok()) return region.status();
    s3.region = *region;
  }
  auto bucket = b.string("bucket");
  if (!bucket.ok()) return bucket.status();
  if (bucket->empty() || bucket->size() > 255 || bucket->find_first_of("/ \t") != std::string::npos) {
    return b.error_at(b.get("bucket"), b.field_path("bucket"), fmt::format("\"{}\" is not a bucket name", *bucket));
  }
  s3.bucket = *bucket;
  if (b.has("addressing")) {
    auto style = b.string("addressing");
    if (!style.ok()) return style.status();
    if (*style != "virtual" && *style != "path") {
      return b.error_at(b.get("addressing"), b.field_path("addressing"),
                        fmt::format("must be virtual or path, not \"{}\"", *style));
    }
    s3.addressing = *style == "path" ? S3Addressing::kPath : S3Addressing::kVirtual;
  }
  if (b.has("profile")) {
    auto profile = b.string("profile");
    if (!profile.ok()) return profile.status();
    s3.credentials.profile = *profile;
  }
  if (b.has("credentials")) {
    Fields c(b.get("credentials"), b.origin(), b.field_path("credentials"));
    S3R_RETURN_IF_ERROR(c.expect_map());
    S3R_RETURN_IF_ERROR(c.only({"source", "access_key_env", "secret_key_env", "session_token_env", "role_arn",
                                "web_identity_token_file", "role_session_name"}));
    S3CredentialSource& source = s3.credentials;
    for (auto [field, into] : {std::pair{"source", &source.source},
                               {"access_key_env", &source.access_key_env},
                               {"secret_key_env", &source.secret_key_env},
                               {"session_token_env", &source.session_token_env},
                               {"role_arn", &source.role_arn},
                               {"web_identity_token_file", &source.web_identity_token_file},
                               {"role_session_name", &source.role_session_name}}) {
      if (!c.has(field)) continue;
      auto value = c.string(field);
      if (!value.ok()) return value.status();
      *into = *value;
    }
    if (c.has("web_identity_token_file"))
      source.web_identity_token_file = resolve(source.web_identity_token_file, base_dir);
    const bool named_env = c.has("access_key_env") || c.has("secret_key_env");
    if (named_env && (!c.has("access_key_env") || !c.has("secret_key_env"))) {
      return c.error_at(c.get(c.has("access_key_env") ? "access_key_env" : "secret_key_env"),
                        c.field_path(c.has("access_key_env") ? "access_key_env" : "secret_key_env"),
                        "access_key_env and secret_key_env go together");
    }
    static const std::set<std::string> kSources = {"chain",   "environment", "web_identity",
                                                   "profile", "container",   "instance_metadata"};
    if (c.has("source") && kSources.count(source.source) == 0) {
      return c.error_at(c.get("source"), c.field_path("source"),
                        fmt::format("must be one of chain, environment, web_identity, profile, container, "
                                    "instance_metadata, not \"{}\"",
                                    source.source));
    }
    if (c.has("source") && named_env) {
      return c.error_at(c.get("source"), c.field_path("source"),
                        "choose the source or name the variables (access_key_env), not both");
    }
    if ((c.has("role_arn") || c.has("web_identity_token_file")) && source.source != "web_identity") {
      return c.error_at(c.get(c.has("role_arn") ? "role_arn" : "web_identity_token_file"),
                        c.field_path(c.has("role_arn") ? "role_arn" : "web_identity_token_file"),
                        "belongs with source: web_identity");
    }
    if (b.has("profile") && c.has("source") && source.source != "profile" && source.source != "chain") {
      return c.error_at(c.get("source"), c.field_path("source"),
                        fmt::format("profile: is set, so the source is the profile, not {}", source.source));
    }
  }
  auto page = b.positive("page_size", s3.page_size, 1000);
  if (!page.ok()) return page.status();
  s3.page_size = *page;
  auto empty_pages = b.positive("max_empty_pages", s3.max_empty_pages, 1000000);
  if (!empty_pages.ok()) return empty_pages.status();
  s3.max_empty_pages = *empty_pages;
  auto connect = b.duration("connect_timeout", s3.connect_timeout);
  if (!connect.ok()) return connect.status();
  s3.connect_timeout = *connect;
  auto request = b.duration("request_timeout", s3.request_timeout);
  if (!request.ok()) return request.status();
  s3.request_timeout = *request;
  auto attempts = b.positive("max_attempts", static_cast<std::size_t>(s3.max_attempts), 100);
  if (!attempts.ok()) return attempts.status();
  s3.max_attempts = static_cast<int>(*attempts);
  auto base = b.duration("retry_base_delay", s3.retry_base_delay);
  if (!base.ok()) return base.status();
  s3.retry_base_delay = *base;
  auto most = b.duration("retry_max_delay", s3.retry_max_delay);
  if (!most.ok()) return most.status();
  s3.retry_max_delay = *most;
  if (b.has("ca_bundle")) {
    auto ca = b.string("ca_bundle");
    if (!ca.ok()) return ca.status();
    s3.ca_bundle = resolve(*ca, base_dir);
  }
  auto insecure = b.boolean("insecure_skip_tls_verify", false);
  if (!insecure.ok()) return insecure.status();
  s3.insecure_skip_tls_verify = *insecure;
  return ok_status();
}

Status load_backend(const YAML::Node& node, std::size_t index, const std::string& origin, const std::string& base_dir,
                    Config& config) {
  Fields b(node, origin, fmt::format("backends[{}]", index));
  S3R_RETURN_IF_ERROR(b.expect_map());
  BackendConfig backend;
  auto name = b.string("name");
  if (!name.ok()) return name.status();
  if (name->empty()) return b.error_at(b.get("name"), b.field_path("name"), "must not be empty");
  backend.name = *name;
  auto type = b.string("type");
  if (!type.ok()) return type.status();
  backend.type = *type;
  if (backend.type == "local") {
    S3R_RETURN_IF_ERROR(b.only({"name", "type", "path", "buckets", "unprefixed_keys", "orphans"}));
    auto path = b.string("path");
    if (!path.ok()) return path.status();
    if (path->empty()) return b.error_at(b.get("path"), b.field_path("path"), "must name a folder");
    backend.path = resolve(*path, base_dir);
  } else if (backend.type == "s3") {
    S3R_RETURN_IF_ERROR(b.only({"name",
                                "type",
                                "buckets",
                                "unprefixed_keys",
                                "orphans",
                                "endpoint",
                                "region",
                                "bucket",
                                "addressing",
                                "profile",
                                "credentials",
                                "page_size",
                                "max_empty_pages",
                                "connect_timeout",
                                "request_timeout",
                                "max_attempts",
                                "retry_base_delay",
                                "retry_max_delay",
                                "ca_bundle",
                                "insecure_skip_tls_verify"}));
    S3R_RETURN_IF_ERROR(load_s3_fields(b, base_dir, backend.s3));
  } else {
    return b.error_at(b.get("type"), b.field_path("type"),
                      fmt::format("unknown backend type \"{}\" (known: local, s3)", backend.type));
  }

  if (b.has("buckets")) {
    auto buckets = b.string_list("buckets");
    if (!buckets.ok()) return buckets.status();
    if (buckets->empty()) return b.error_at(b.get("buckets"), b.field_path("buckets"), "must not be empty");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < buckets->size(); ++i) {
      const std::string& name_i = (*buckets)[i];
      const std::string field = fmt::format("{}[{}]", b.field_path("buckets"), i);
      if (std::find(config.buckets.begin(), config.buckets.end(), name_i) == config.buckets.end()) {
        return b.error_at(b.get("buckets")[i], field,
                          fmt::format("bucket \"{}\" is not in the top-level buckets list", name_i));
      }
      if (!seen.insert(name_i).second) {
        return b.error_at(b.get("buckets")[i], field, fmt::format("bucket \"{}\" is listed twice", name_i));
      }
    }
    backend.buckets = std::move(*buckets);
  } else {
    backend.buckets = config.buckets;
  }

  auto adopt = b.either("unprefixed_keys", "adopt", "ignore", true);
  if (!adopt.ok()) return adopt.status();
  backend.adopt_unprefixed = *adopt;
  auto import = b.either("orphans", "import", "report", true);
  if (!import.ok()) return import.status();
  backend.import_orphans = *import;
  for (const auto& other : config.backends) {
    if (other.name == backend.name) {
      return b.error_at(b.get("name"), b.field_path("name"),
                        fmt::format("backend name \"{}\" is used twice", backend.name));
    }
  }
  config.backends.push_back(std::move(backend));
  return ok_status();
}

Status load_reconcile(const Fields& top, Config& config) {
  if (!top.has("reconcile")) return ok_status();
  Fields r(top.get("reconcile"), top.origin(), "reconcile");
  S3R_RETURN_IF_ERROR(r.expect_map());
  S3R_RETURN_IF_ERROR(r.only({"page_size", "queue_size", "batch_size", "parallelism", "ranges", "lease",
                              "allow_empty_listing", "max_removals", "max_removal_ratio", "ratio_min_rows", "fix_sizes",
                              "max_list_requests", "index_read_ahead"}));
  auto fix_sizes = r.boolean("fix_sizes", config.reconcile.fix_sizes);
  if (!fix_sizes.ok()) return fix_sizes.status();
  config.reconcile.fix_sizes = *fix_sizes;
  auto index_read_ahead = r.boolean("index_read_ahead", config.reconcile.index_read_ahead);
  if (!index_read_ahead.ok()) return index_read_ahead.status();
  config.reconcile.index_read_ahead = *index_read_ahead;
  auto budget = r.count("max_list_requests", config.reconcile.max_list_requests);
  if (!budget.ok()) return budget.status();
  config.reconcile.max_list_requests = *budget;
  RemovalLimits& limits = config.reconcile.limits;
  auto allow_empty = r.boolean("allow_empty_listing", limits.allow_empty_listing);
  if (!allow_empty.ok()) return allow_empty.status();
  auto max_removals = r.count("max_removals", limits.max_removals);
  if (!max_removals.ok()) return max_removals.status();
  auto max_ratio = r.ratio("max_removal_ratio", limits.max_removal_ratio);
  if (!max_ratio.ok()) return max_ratio.status();
  auto min_rows = r.count("ratio_min_rows", limits.ratio_min_rows);
  if (!min_rows.ok()) return min_rows.status();
  limits = RemovalLimits{*allow_empty, *max_removals, *max_ratio, *min_rows};
  auto page = r.positive("page_size", config.reconcile.page_size, 100000);
  if (!page.ok()) return page.status();
  auto queue = r.positive("queue_size", config.reconcile.queue_size, 1000000);
  if (!queue.ok()) return queue.status();
  auto batch = r.positive("batch_size", config.reconcile.batch_size, 100000);
  if (!batch.ok()) return batch.status();
  config.reconcile.page_size = *page;
  config.reconcile.queue_size = *queue;
  auto parallelism = r.positive("parallelism", config.reconcile.parallelism, kMaxParallelism);
  if (!parallelism.ok()) return parallelism.status();
  config.reconcile.batch_size = *batch;
  config.reconcile.parallelism = *parallelism;
  auto ranges = r.positive("ranges", config.reconcile.ranges, 100000);
  if (!ranges.ok()) return ranges.status();
  config.reconcile.ranges = *ranges;
  auto lease = r.duration("lease", config.reconcile.lease);
  if (!lease.ok()) return lease.status();
  config.reconcile.lease = *lease;
  return ok_status();
}

Status load_serve(const Fields& top, Config& config) {
  if (!top.has("serve")) return ok_status();
  Fields s(top.get("serve"), top.origin(), "serve");
  S3R_RETURN_IF_ERROR(s.expect_map());
  S3R_RETURN_IF_ERROR(
      s.only({"interval", "listen", "join", "api_token_file", "api_token_env", "stale_after", "survey_interval"}));
  auto join = s.boolean("join", config.serve.join);
  if (!join.ok()) return join.status();
  config.serve.join = *join;
  auto stale_after = s.positive("stale_after", config.serve.stale_after, 1000);
  if (!stale_after.ok()) return stale_after.status();
  config.serve.stale_after = *stale_after;
  for (auto [key, field] : {std::pair{"api_token_file", &ServeConfig::api_token_file},
                            std::pair{"api_token_env", &ServeConfig::api_token_env}}) {
    if (!s.has(key)) continue;
    auto value = s.string(key);
    if (!value.ok()) return value.status();
    if (value->empty()) return s.error_at(s.get(key), std::string("serve.") + key, "must not be empty");
    config.serve.*field = *value;
  }
  if (s.has("api_token_file") && s.has("api_token_env")) {
    return s.error_at(s.get("api_token_env"), "serve.api_token_env",
                      "give the API token one way: api_token_file or api_token_env, not both");
  }
  if (s.has("interval")) {
    auto text = s.string("interval");
    if (!text.ok()) return text.status();
    auto interval = parse_duration(*text);
    if (!interval.ok()) return s.error_at(s.get("interval"), "serve.interval", interval.status().message());
    if (interval->count() <= 0) return s.error_at(s.get("interval"), "serve.interval", "must be more than zero");
    config.serve.interval = *interval;
  }
  auto survey_interval = s.duration_or_off("survey_interval", config.serve.survey_interval);
  if (!survey_interval.ok()) return survey_interval.status();
  config.serve.survey_interval = *survey_interval;
  if (s.has("listen")) {
    auto listen = s.string("listen");
    if (!listen.ok()) return listen.status();
    if (!valid_listen_address(*listen)) {
      return s.error_at(
          s.get("listen"), "serve.listen",
          fmt::format("must be one IP address and port, as 127.0.0.1:9464 or [::1]:9464, not \"{}\"", *listen));
    }
    config.serve.listen = *listen;
  }
  return ok_status();
}

}  // namespace

StatusOr<std::string> expand_env(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '$' || i + 1 >= value.size()) {
      out += value[i];
      continue;
    }
    if (value[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (value[i + 1] != '{') {
      out += value[i];
      continue;
    }
    const std::size_t close = value.find('}', i + 2);
    if (close == std::string::npos) {
      return invalid_argument_error(fmt::format("unterminated ${{ in \"{}\"", value));
    }
    const std::string name = value.substr(i + 2, close - i - 2);
    if (name.empty()) return invalid_argument_error("empty variable name in ${}");
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return invalid_argument_error(fmt::format("environment variable {} is not set", name));
    out += v;
    i = close;
  }
  return out;
}

namespace {

// yaml-cpp keeps every pair of a mapping, and lookups find the first: a key
// given twice would silently lose its second value (a second `reconcile:`
// block with `max_removals: 5`, ignored). Refused, naming both lines.
Status refuse_duplicate_keys(const YAML::Node& node, const std::string& origin, const std::string& path) {
  if (node.IsMap()) {
    std::map<std::string, int> seen;  // key -> its line
    for (const auto& kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      const std::string field = path.empty() ? key : path + "." + key;
      const int line = kv.first.Mark().line + 1;
      if (auto [at, inserted] = seen.emplace(key, line); !inserted) {
        return invalid_argument_error(
            fmt::format("{}:{}: {}: given twice (first on line {}); give it once", origin, line, field, at->second));
      }
      S3R_RETURN_IF_ERROR(refuse_duplicate_keys(kv.second, origin, field));
    }
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      S3R_RETURN_IF_ERROR(refuse_duplicate_keys(node[i], origin, fmt::format("{}[{}]", path, i)));
    }
  }
  return ok_status();
}

}  // namespace

StatusOr<Config> parse_config(const std::string& text, const std::string& origin, const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
    S3R_RETURN_IF_ERROR(refuse_duplicate_keys(root, origin, ""));
  } catch (const YAML::Exception& e) {
    return invalid_argument_error(fmt::format("{}:{}: not valid YAML: {}", origin, e.mark.line + 1, e.msg));
  }
  Config config;
  config.file = origin;
  try {
    if (!root.IsMap()) return invalid_argument_error(fmt::format("{}: must be a YAML mapping of fields", origin));
    Fields top(root, origin, "");
    S3R_RETURN_IF_ERROR(top.only({"store", "buckets", "backends", "reconcile", "serve"}));
    if (!top.has("buckets")) return top.error("missing field buckets (the list of virtual buckets)");
    S3R_RETURN_IF_ERROR(load_buckets(top, config));
    S3R_RETURN_IF_ERROR(load_store(top, base_dir, config));
    if (!top.has("backends")) return top.error("missing field backends");
    const YAML::Node backends = top.get("backends");
    if (!backends.IsSequence() || backends.size() == 0) {
      return top.error_at(backends, "backends", "must be a non-empty list of backends");
    }
    for (std::size_t i = 0; i < backends.size(); ++i) {
      S3R_RETURN_IF_ERROR(load_backend(backends[i], i, origin, base_dir, config));
    }
    S3R_RETURN_IF_ERROR(load_reconcile(top, config));
    S3R_RETURN_IF_ERROR(load_serve(top, config));
    if (config.serve.join && config.reconcile.max_list_requests != 0) {
      return top.error_at(top.get("serve"), "serve.join",
                          "shared passes do not take reconcile.max_list_requests: a budget is spent in key order by "
                          "one walk; drop one of them");
    }
  } catch (const YAML::Exception& e) {
    return invalid_argument_error(fmt::format("{}:{}: {}", origin, e.mark.line + 1, e.msg));
  }
  return config;
}

StatusOr<Config> load_config(const std::string& path) {
  // Only a regular file, and only so much of it: a FIFO would block, a
  // device (/dev/zero) would be read until memory runs out.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    return (err == ENOENT ? not_found_error : unavailable_error)(
        fmt::format("cannot read config file \"{}\": {}", path, std::strerror(err)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument_error(fmt::format("config file \"{}\" is not a regular file", path));
  }
  if (st.st_size > kMaxConfigBytes) {
    ::close(fd);
    return invalid_argument_error(
        fmt::format("config file \"{}\" is {} bytes; at most {} are read", path, st.st_size, kMaxConfigBytes));
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  const auto slash = path.rfind('/');
  const std::string base_dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  return parse_config(text, path, base_dir);
}

}  // namespace s3reconcile::config
