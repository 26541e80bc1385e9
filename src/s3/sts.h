// Temporary credentials from AWS STS: AssumeRoleWithWebIdentity (unsigned;
// the token proves who we are) and AssumeRole (signed by source credentials).
#pragma once

#include <memory>
#include <string>

#include "s3/aws_environment.h"
#include "s3/aws_shared_files.h"
#include "s3/credential_provider.h"
#include "s3/http_client.h"

namespace s3reconcile::s3 {

struct StsEndpoint {
  std::string url;     // "https://sts.eu-west-1.amazonaws.com", "http://127.0.0.1:9000"
  std::string region;  // the signing region
};

// AWS_ENDPOINT_URL_STS, else the profile's `sts` endpoint_url, else
// AWS_ENDPOINT_URL, else the profile's endpoint_url, else STS of `region`
// (the global endpoint, signed for us-east-1, when no region is known).
StsEndpoint sts_endpoint(const AwsEnvironment& env, const AwsProfile* profile, const std::string& region);

struct RoleToAssume {
  std::string role_arn;
  std::string session_name;  // "" = "s3reconcile-<unix time>"
  std::string external_id;   // AssumeRole only; optional
  int duration_seconds = 0;  // 0 = STS's default (one hour)
};

// Re-reads `token_file` before every call: the platform rotates it.
std::unique_ptr<CredentialProvider> web_identity_credentials(StsEndpoint sts, RoleToAssume role, std::string token_file,
                                                             HttpOptions http, std::string where);

// Signs AssumeRole with what `source` fetches (itself refreshed per call).
std::unique_ptr<CredentialProvider> assumed_role_credentials(StsEndpoint sts, RoleToAssume role,
                                                             std::unique_ptr<CredentialProvider> source,
                                                             HttpOptions http, std::string where);

}  // namespace s3reconcile::s3
