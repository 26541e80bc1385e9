#include "s3/hidden_storage_walk.h"

#include <fmt/format.h>

#include "s3/list_xml.h"
#include "s3reconcile/key_order.h"

namespace s3reconcile::s3 {
namespace {

// Where a page stands in a walk, for every error about it.
std::string page_context(int page_number, const std::string& prefix) {
  return fmt::format(" page {} (prefix {})", page_number, quote_key(prefix));
}

// The checks every page of a marker-paged walk gets, the same as
// S3Backend::list gives ListObjectsV2 pages: no more entries than asked
// for, every key under the prefix, and keys that never go back across
// pages (the parser checks them within a page).
template <typename Entry>
Status check_page(const std::vector<Entry>& entries, const std::string& prefix, const std::string& previous_key,
                  std::size_t page_size, const std::string& what) {
  if (entries.size() > page_size) {
    return data_loss_error(
        fmt::format("{}: the page holds {} entries, more than the {} asked for", what, entries.size(), page_size));
  }
  for (const auto& e : entries) {
    if (!e.key.starts_with(prefix)) {
      return data_loss_error(fmt::format("{}: key {} is outside the prefix", what, quote_key(e.key)));
    }
  }
  if (!entries.empty() && !previous_key.empty() && compare_keys(entries.front().key, previous_key) < 0) {
    return failed_precondition_error(fmt::format("{}: not in ascending key order: {} came after {}", what,
                                                 quote_key(entries.front().key), quote_key(previous_key)));
  }
  return ok_status();
}

// A page that sends the walk back to where it already was would list in a
// circle; markers must move forward.
Status check_markers_advance(const std::string& key_marker, const std::string& id_marker,
                             const std::string& next_key_marker, const std::string& next_id_marker,
                             const std::string& what) {
  const int order = compare_keys(next_key_marker, key_marker);
  if (order < 0 || (order == 0 && next_id_marker == id_marker)) {
    return data_loss_error(fmt::format(
        "{}: the next markers ({}, {}) do not move past ({}, {}): the listing would "
        "go in a circle",
        what, quote_key(next_key_marker), quote_key(next_id_marker), quote_key(key_marker), quote_key(id_marker)));
  }
  return ok_status();
}

// The id a marker names an entry by, and what it is called.
const std::string& id_of(const ObjectVersion& v) { return v.version_id; }
const std::string& id_of(const IncompleteUpload& u) { return u.upload_id; }
std::string_view id_name(const ObjectVersion&) { return "version"; }
std::string_view id_name(const IncompleteUpload&) { return "upload"; }

// The walk sends the next markers back, and the server lists what comes
// after them: so they must name the last entry of the page, or the next page
// would skip what lies between, or repeat it. OpenStack Swift's s3api
// answers a page of versions with NextVersionIdMarker "null" whatever the
// page's last version, and then lists nothing more (or the page again): a
// survey that trusted it counted 1 noncurrent version of 4.
template <typename Entry>
Status check_markers_name_last(const std::vector<Entry>& entries, const std::string& next_key_marker,
                               const std::string& next_id_marker, const std::string& what) {
  if (entries.empty()) return ok_status();
  const Entry& last = entries.back();
  if (next_key_marker == last.key && next_id_marker == id_of(last)) return ok_status();
  return data_loss_error(fmt::format(
      "{}: the next markers ({}, {}) are not the page's last entry (key {}, {} {}): paged by them the listing "
      "would skip or repeat entries; a page_size that holds the whole listing needs no marker",
      what, quote_key(next_key_marker), quote_key(next_id_marker), quote_key(last.key), id_name(last),
      quote_key(id_of(last))));
}

// What tells the two marker-paged listings apart.
template <typename Entry>
struct MarkerListing {
  std::string_view operation;       // "ListObjectVersions"
  std::string_view subresource;     // "versions"
  std::string_view max_name;        // "max-keys"
  std::string_view id_marker_name;  // "version-id-marker"
  StatusOr<MarkerPage<Entry>> (*parse)(std::string_view xml);
};

// Walks a listing paged by key and id markers, page after page, checking
// each as S3Backend::list checks ListObjectsV2 pages.
template <typename Entry>
Status walk_marker_pages(const S3Requests& requests, const MarkerListing<Entry>& listing, const std::string& prefix,
                         const std::function<bool(const std::vector<Entry>&)>& on_page, std::stop_token stop) {
  HttpClient client(requests.http);
  std::string key_marker, id_marker, last_key;
  for (int page_number = 1;; ++page_number) {
    const std::string context = page_context(page_number, prefix);
    const std::string what = fmt::format("s3 {} {}{}", listing.operation, requests.where, context);
    if (stop.stop_requested()) return cancelled_error(what + ": cancelled");
    NameValues query = {{std::string(listing.subresource), ""},
                        {"encoding-type", "url"},
                        {std::string(listing.max_name), std::to_string(requests.page_size)}};
    if (!prefix.empty()) query.emplace_back("prefix", prefix);
    if (!key_marker.empty()) {
      query.emplace_back("key-marker", key_marker);
      if (!id_marker.empty()) query.emplace_back(std::string(listing.id_marker_name), id_marker);
    }
    auto response = requests.send(client, "GET", "", query, listing.operation, context, stop);
    if (!response.ok()) return response.status();
    if (response->status != 200) return requests.failure(listing.operation, context, *response);
    auto page = listing.parse(response->body);
    if (!page.ok()) return page.status().with_context(what);
    S3R_RETURN_IF_ERROR(check_page(page->entries, prefix, last_key, requests.page_size, what));
    if (!page->entries.empty()) last_key = page->entries.back().key;
    if (!on_page(page->entries) || !page->is_truncated) return ok_status();
    S3R_RETURN_IF_ERROR(check_markers_name_last(page->entries, page->next_key_marker, page->next_id_marker, what));
    S3R_RETURN_IF_ERROR(
        check_markers_advance(key_marker, id_marker, page->next_key_marker, page->next_id_marker, what));
    key_marker = std::move(page->next_key_marker);
    id_marker = std::move(page->next_id_marker);
  }
}

}  // namespace

Status HiddenStorageWalk::list_versions(const std::string& prefix, const VersionPageCallback& on_page,
                                        std::stop_token stop) {
  static constexpr MarkerListing<ObjectVersion> kVersions{"ListObjectVersions", "versions", "max-keys",
                                                          "version-id-marker", &parse_list_versions};
  return walk_marker_pages(requests_, kVersions, prefix, on_page, stop);
}

Status HiddenStorageWalk::list_uploads(const std::string& prefix, const UploadPageCallback& on_page,
                                       std::stop_token stop) {
  static constexpr MarkerListing<IncompleteUpload> kUploads{"ListMultipartUploads", "uploads", "max-uploads",
                                                            "upload-id-marker", &parse_list_multipart_uploads};
  return walk_marker_pages(requests_, kUploads, prefix, on_page, stop);
}

StatusOr<std::int64_t> HiddenStorageWalk::upload_bytes(const IncompleteUpload& upload, std::stop_token stop) {
  constexpr std::string_view kOperation = "ListParts";
  HttpClient client(requests_.http);
  std::int64_t bytes = 0;
  int marker = 0;
  for (int page_number = 1;; ++page_number) {
    const std::string context =
        fmt::format(" key {} upload {} page {}", quote_key(upload.key), quote_key(upload.upload_id), page_number);
    const std::string what = fmt::format("s3 {} {}{}", kOperation, requests_.where, context);
    if (stop.stop_requested()) return cancelled_error(what + ": cancelled");
    NameValues query = {{"uploadId", upload.upload_id}, {"max-parts", "1000"}};
    if (marker > 0) query.emplace_back("part-number-marker", std::to_string(marker));
    auto response = requests_.send(client, "GET", upload.key, query, kOperation, context, stop);
    if (!response.ok()) return response.status();
    if (response->status != 200) return requests_.failure(kOperation, context, *response);
    auto page = parse_list_parts(response->body);
    if (!page.ok()) return page.status().with_context(what);
    if (!page->parts.empty() && page->parts.front().first <= marker) {
      return failed_precondition_error(fmt::format("{}: part {} came after part {}: not in ascending order", what,
                                                   page->parts.front().first, marker));
    }
    for (const auto& [number, size] : page->parts) bytes += size;
    if (!page->parts.empty()) marker = page->parts.back().first;
    if (!page->is_truncated) return bytes;
    if (page->next_part_number_marker < marker || page->parts.empty()) {
      return data_loss_error(fmt::format("{}: truncated, but NextPartNumberMarker {} does not move past part {}", what,
                                         page->next_part_number_marker, marker));
    }
    marker = page->next_part_number_marker;
  }
}

Status HiddenStorageWalk::abort_upload(const IncompleteUpload& upload, std::stop_token stop) {
  constexpr std::string_view kOperation = "AbortMultipartUpload";
  HttpClient client(requests_.http);
  const std::string context = fmt::format(" key {} upload {}", quote_key(upload.key), quote_key(upload.upload_id));
  // Only ever with an uploadId: a DELETE without one would delete the object.
  if (upload.upload_id.empty()) {
    return invalid_argument_error(fmt::format("s3 {} {}{}: no upload id", kOperation, requests_.where, context));
  }
  auto response =
      requests_.send(client, "DELETE", upload.key, {{"uploadId", upload.upload_id}}, kOperation, context, stop);
  if (!response.ok()) return response.status();
  if (response->status != 204 && response->status != 200) return requests_.failure(kOperation, context, *response);
  return ok_status();
}

}  // namespace s3reconcile::s3
