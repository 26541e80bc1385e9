// Credentials from the platform a process runs on: an ECS or EKS Pod
// Identity container endpoint, or the EC2 instance metadata service (IMDSv2).
#pragma once

#include <memory>

#include "s3/aws_environment.h"
#include "s3/credential_provider.h"
#include "s3reconcile/status.h"

namespace s3reconcile::s3 {

// True when the environment points at a container endpoint
// (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI).
bool container_credentials_configured(const AwsEnvironment& env);

// GETs AWS_CONTAINER_CREDENTIALS_RELATIVE_URI from 169.254.170.2, or
// AWS_CONTAINER_CREDENTIALS_FULL_URI, which must be on a loopback address
// or one of the documented link-local ones (169.254.170.2, 169.254.170.23,
// fd00:ec2::23); the Authorization header is AWS_CONTAINER_AUTHORIZATION_TOKEN
// or the content of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, read per call.
// A full URI on any other host is an error naming it.
StatusOr<std::unique_ptr<CredentialProvider>> container_credentials(const AwsEnvironment& env);

// True unless AWS_EC2_METADATA_DISABLED is "true".
bool instance_metadata_enabled(const AwsEnvironment& env);

// IMDSv2 at AWS_EC2_METADATA_SERVICE_ENDPOINT (default
// http://169.254.169.254): PUT a session token, read the role's name, then
// its credentials, each with a one-second connect timeout, so that a
// machine off EC2 learns it in a second.
std::unique_ptr<CredentialProvider> instance_metadata_credentials(const AwsEnvironment& env);

}  // namespace s3reconcile::s3
