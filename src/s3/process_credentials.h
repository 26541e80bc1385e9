// credential_process: a profile's command that prints credentials as JSON.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "s3/credential_provider.h"
#include "s3reconcile/status.h"

namespace s3reconcile::s3 {

// Splits a credential_process line into arguments as the AWS CLI does,
// without a shell: whitespace separates, double or single quotes group,
// no expansion of any kind. An unclosed quote is an error.
StatusOr<std::vector<std::string>> split_command_line(const std::string& line);

// Runs the command (no shell) with stdin from /dev/null, reads at most
// 64 KiB of stdout as {"Version": 1, "AccessKeyId", "SecretAccessKey",
// "SessionToken", "Expiration"}, and kills it after `timeout`. A failure
// quotes at most the first line of its stderr (escaped, cut to 200 bytes),
// never its stdout.
std::unique_ptr<CredentialProvider> process_credentials(std::vector<std::string> argv, std::string where,
                                                        std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace s3reconcile::s3
