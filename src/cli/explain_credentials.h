// `s3reconcile check --explain-credentials`: which credential source, region
// and endpoint each backend resolved, and when its credentials expire.
#pragma once

#include <string>
#include <vector>

namespace s3reconcile::cli {

// Opens each selected backend (fetching its credentials, sending no S3
// request) and prints what it resolved, never a secret. Exit 0 when every
// backend resolved, 1 when one did not (its error printed), 2 on a bad config.
int explain_credentials_command(const std::string& config_file, const std::vector<std::string>& backends,
                                const std::string& output);

}  // namespace s3reconcile::cli
