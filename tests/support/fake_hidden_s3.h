// A fake versioned S3 bucket behind FakeHttpServer for the survey:
// ListObjectVersions, ListMultipartUploads, ListParts and
// AbortMultipartUpload over in-memory entries, paged by markers as S3 pages
// them, with switches for broken servers.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "s3/list_xml.h"
#include "support/fake_http_server.h"

namespace s3reconcile::testing {

class FakeHiddenS3 {
 public:
  struct Version {
    std::string key, id;
    std::int64_t size = 0;
    bool latest = false, delete_marker = false;
  };
  // Keys as the XML carries them: URL-encoded (the pages say EncodingType url).
  struct Upload {
    std::string key, id, initiated;  // initiated as S3 writes it
    std::vector<std::int64_t> parts;
  };
  std::string bucket = "phys";
  std::vector<Version> versions;  // in S3's order: by key, newest first
  std::vector<Upload> uploads;    // by key
  // Broken servers: the second page of versions starts before the first ended.
  bool versions_go_back = false;
  // A truncated page that names no next marker.
  bool truncated_without_marker = false;
  // NextVersionIdMarker "null" whatever the page's last version, as
  // OpenStack Swift's s3api sends it.
  bool version_marker_null = false;
  std::vector<std::string> aborted;   // upload ids, in order
  std::vector<std::string> requests;  // "METHOD path?query", in order

  FakeResponse handle(const FakeRequest& r) {
    std::lock_guard lock(mu_);
    requests.push_back(r.method + " " + r.path + "?" + r.raw_query);
    const std::string root = "/" + bucket;
    if (r.method == "GET" && (r.path == root || r.path == root + "/") && r.query.count("versions")) {
      return list_versions(r);
    }
    if (r.method == "GET" && (r.path == root || r.path == root + "/") && r.query.count("uploads")) {
      return list_uploads(r);
    }
    if (r.path.starts_with(root + "/") && r.query.count("uploadId")) {
      const std::string key = *s3::url_decode(r.path.substr(root.size() + 1), false);
      for (auto it = uploads.begin(); it != uploads.end(); ++it) {
        if (*s3::url_decode(it->key, true) != key || it->id != r.query.at("uploadId")) continue;
        if (r.method == "DELETE") {
          aborted.push_back(it->id);
          uploads.erase(it);
          return FakeResponse{204, "", {}};
        }
        if (r.method == "GET") return list_parts(*it);
      }
      return FakeResponse{404, "<Error><Code>NoSuchUpload</Code><Message>no upload</Message></Error>", {}};
    }
    return FakeResponse{400, "<Error><Code>InvalidRequest</Code><Message>not faked</Message></Error>", {}};
  }

 private:
  static std::size_t max_of(const FakeRequest& r, const char* name) {
    return r.query.count(name) ? std::stoul(r.query.at(name)) : 1000;
  }

  // The entries under the request's prefix (keys compared decoded).
  template <typename Entry>
  static std::vector<Entry> under_prefix(const FakeRequest& r, const std::vector<Entry>& all) {
    const std::string prefix = r.query.count("prefix") ? r.query.at("prefix") : "";
    std::vector<Entry> out;
    for (const Entry& e : all) {
      if (s3::url_decode(e.key, true)->starts_with(prefix)) out.push_back(e);
    }
    return out;
  }

  FakeResponse list_versions(const FakeRequest& r) {
    const std::vector<Version> versions = under_prefix(r, this->versions);
    const std::size_t max = max_of(r, "max-keys");
    std::size_t from = 0;
    if (r.query.count("key-marker")) {
      const std::string& km = r.query.at("key-marker");
      const std::string vm = r.query.count("version-id-marker") ? r.query.at("version-id-marker") : "";
      while (from < versions.size() && !(versions[from].key == km && versions[from].id == vm)) ++from;
      ++from;
      if (versions_go_back) from = 0;
    }
    std::string body = "<ListVersionsResult><Name>" + bucket + "</Name><EncodingType>url</EncodingType>";
    const std::size_t to = std::min(versions.size(), from + max);
    const bool truncated = to < versions.size();
    body += fmt::format("<IsTruncated>{}</IsTruncated>", truncated);
    if (truncated && !truncated_without_marker) {
      body += fmt::format("<NextKeyMarker>{}</NextKeyMarker><NextVersionIdMarker>{}</NextVersionIdMarker>",
                          versions[to - 1].key, version_marker_null ? "null" : versions[to - 1].id);
    }
    for (std::size_t i = from; i < to; ++i) {
      const Version& v = versions[i];
      const char* element = v.delete_marker ? "DeleteMarker" : "Version";
      body += fmt::format(
          "<{0}><Key>{1}</Key><VersionId>{2}</VersionId><IsLatest>{3}</IsLatest>"
          "<LastModified>2026-11-30T10:00:00.000Z</LastModified>{4}</{0}>",
          element, v.key, v.id, v.latest, v.delete_marker ? "" : fmt::format("<Size>{}</Size>", v.size));
    }
    return FakeResponse{200, body + "</ListVersionsResult>", {}};
  }

  FakeResponse list_uploads(const FakeRequest& r) {
    const std::vector<Upload> uploads = under_prefix(r, this->uploads);
    const std::size_t max = max_of(r, "max-uploads");
    std::size_t from = 0;
    if (r.query.count("key-marker")) {
      // Past the markers by order, as S3 pages: an upload aborted since the
      // last page does not lose the place.
      const std::string& km = r.query.at("key-marker");
      const std::string um = r.query.count("upload-id-marker") ? r.query.at("upload-id-marker") : "";
      const auto past = [&](const Upload& u) {
        const std::string k = *s3::url_decode(u.key, true);
        return k > km || (k == km && u.id > um);
      };
      while (from < uploads.size() && !past(uploads[from])) ++from;
    }
    std::string body = "<ListMultipartUploadsResult><Bucket>" + bucket + "</Bucket><EncodingType>url</EncodingType>";
    const std::size_t to = std::min(uploads.size(), from + max);
    const bool truncated = to < uploads.size();
    body += fmt::format("<IsTruncated>{}</IsTruncated>", truncated);
    if (truncated && !truncated_without_marker) {
      body += fmt::format("<NextKeyMarker>{}</NextKeyMarker><NextUploadIdMarker>{}</NextUploadIdMarker>",
                          uploads[to - 1].key, uploads[to - 1].id);
    }
    for (std::size_t i = from; i < to; ++i) {
      body += fmt::format("<Upload><Key>{}</Key><UploadId>{}</UploadId><Initiated>{}</Initiated></Upload>",
                          uploads[i].key, uploads[i].id, uploads[i].initiated);
    }
    return FakeResponse{200, body + "</ListMultipartUploadsResult>", {}};
  }

  static FakeResponse list_parts(const Upload& u) {
    std::string body = "<ListPartsResult><Key>" + u.key + "</Key><IsTruncated>false</IsTruncated>";
    for (std::size_t i = 0; i < u.parts.size(); ++i) {
      body += fmt::format("<Part><PartNumber>{}</PartNumber><Size>{}</Size></Part>", i + 1, u.parts[i]);
    }
    return FakeResponse{200, body + "</ListPartsResult>", {}};
  }

  std::mutex mu_;
};

}  // namespace s3reconcile::testing
