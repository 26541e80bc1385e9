#include "request.h"

#include <strings.h>

#include "s3/list_xml.h"  // url_decode

namespace s3r_synthetic {

const std::string* Request::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && ::strncasecmp(n.data(), name.data(), n.size()) == 0) return &v;
  }
  return nullptr;
}

std::optional<Fields> parse_query(std::string_view raw_query) {
  Fields out;
  while (!raw_query.empty()) {
    const std::size_t amp = raw_query.find('&');
    const std::string_view part = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view() : raw_query.substr(amp + 1);
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    auto name = s3reconcile::s3::url_decode(part.substr(0, eq), /*plus_is_space=*/true);
    auto value = s3reconcile::s3::url_decode(eq == std::string_view::npos ? "" : part.substr(eq + 1), true);
    if (!name.ok() || !value.ok()) return std::nullopt;
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

std::optional<std::string> decode_path(std::string_view raw) {
  auto decoded = s3reconcile::s3::url_decode(raw, /*plus_is_space=*/false);
  if (!decoded.ok()) return std::nullopt;
  return std::move(*decoded);
}

}  // namespace s3r_synthetic
