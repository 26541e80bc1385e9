// What an S3 backend takes from the AWS conventions when its config leaves
// it out: the credential chain, the region and the endpoint, resolved in
// the order the AWS CLI and SDKs document (see README "Credentials, region
// and endpoint").
#pragma once

#include <memory>
#include <string>

#include "s3/aws_environment.h"
#include "s3/credential_provider.h"
#include "s3/http_client.h"
#include "s3reconcile/s3_backend.h"
#include "s3reconcile/status.h"

namespace s3reconcile::s3 {

struct AwsSetup {
  std::string region;
  std::string region_source;  // "region: in the config", "AWS_REGION", "region in profile prod in ..."
  std::string endpoint;
  std::string endpoint_source;  // "endpoint: in the config", "AWS_ENDPOINT_URL", ...
  std::unique_ptr<CredentialProvider> credentials;
};

// Resolves region, endpoint and the credential source of one backend.
// Nothing is fetched yet. Errors name the setting, variable, file or profile
// at fault, never a secret.
StatusOr<AwsSetup> resolve_aws_setup(const S3BackendOptions& options, const AwsEnvironment& env,
                                     const HttpOptions& http);

}  // namespace s3reconcile::s3
