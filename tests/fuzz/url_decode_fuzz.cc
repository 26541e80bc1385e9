// libFuzzer target for the URL decoder: never crashes, and decoding what the
// S3-style encoder made gives back the input, byte for byte.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "s3/list_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  for (const bool plus_is_space : {false, true}) {
    s3reconcile::s3::url_decode(input, plus_is_space).status().ignore_error();
  }
  // Round trip: encode as S3's encoding-type=url does, then decode.
  std::string encoded;
  for (unsigned char c : input) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/')
      encoded += static_cast<char>(c);
    else if (c == ' ')
      encoded += '+';
    else
      encoded += fmt::format("%{:02X}", c);
  }
  auto decoded = s3reconcile::s3::url_decode(encoded, true);
  if (!decoded.ok() || *decoded != input) std::abort();
  return 0;
}
