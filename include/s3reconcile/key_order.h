// Key order: unsigned byte order of the key's bytes (memcmp; a proper prefix
// sorts first). It is the order of S3 ListObjectsV2, of SQLite's BINARY
// collation and of PostgreSQL's COLLATE "C". Every comparison in the engine
// goes through compare_keys.
#pragma once

#include <string>
#include <string_view>

namespace s3reconcile {

// <0, 0 or >0 as a sorts before, with, or after b. Inline: the merge runs
// it for every key. char_traits<char>::compare is memcmp, which compares
// bytes as unsigned char.
inline int compare_keys(std::string_view a, std::string_view b) { return a.compare(b); }

// The smallest string greater than every string that starts with `prefix`,
// or "" when there is none (prefix empty or made only of 0xFF bytes).
// Used as the exclusive upper bound of a prefix's key range.
std::string prefix_successor(std::string_view prefix);

// The key in double quotes, with quotes, backslashes and control bytes
// escaped, fit for error messages and logs.
std::string quote_key(std::string_view key);

}  // namespace s3reconcile
