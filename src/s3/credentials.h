// Where S3 credentials come from: the environment, the AWS shared
// credentials file, or environment variables a config names.
#pragma once

#include <string>

#include "s3/sigv4.h"
#include "s3reconcile/s3_backend.h"
#include "s3reconcile/status.h"

namespace s3reconcile::s3 {

// Resolves credentials, first match wins:
//   1. `source.access_key_env` / `secret_key_env` (/ `session_token_env`):
//      the environment variables the config names (both must be set);
//   2. a profile (`source.profile`, else AWS_PROFILE) from the shared
//      credentials file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials);
//   3. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN;
//   4. the "default" profile of the shared credentials file.
// Errors say which variable, file or profile was missing, never a secret.
StatusOr<Credentials> resolve_credentials(const S3CredentialSource& source);

// Reads one profile of an AWS shared credentials file (INI).
StatusOr<Credentials> read_shared_credentials(const std::string& path, const std::string& profile);

}  // namespace s3reconcile::s3
