// Opening the index store a config names, whichever kind it is.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "s3reconcile/index_store.h"

namespace s3reconcile::cli {

// Opens the store, creating and migrating its schema.
StatusOr<std::unique_ptr<IndexStore>> open_store(const config::StoreConfig& store);

// The schema version this build's store of that kind creates and keeps.
int store_schema_version(const config::StoreConfig& store);

// "sqlite FILE" or "postgres host=H port=P dbname=D": never the password.
std::string describe_store(const config::StoreConfig& store);

}  // namespace s3reconcile::cli
