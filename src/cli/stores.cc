#include "cli/stores.h"

#include <fmt/format.h>

#include "s3reconcile/postgres_store.h"
#include "s3reconcile/sqlite_store.h"

namespace s3reconcile::cli {

StatusOr<std::unique_ptr<IndexStore>> open_store(const config::StoreConfig& store) {
  if (store.kind == config::StoreConfig::Kind::kPostgres) {
    PostgresStoreOptions options;
    options.dsn = store.postgres_dsn;
    options.pending_delete_query = store.pending_delete_query;
    return open_postgres_store(options);
  }
  SqliteStoreOptions options;
  options.path = store.sqlite_path;
  options.pending_delete_query = store.pending_delete_query;
  return open_sqlite_store(options);
}

int store_schema_version(const config::StoreConfig& store) {
  return store.kind == config::StoreConfig::Kind::kPostgres ? postgres_schema_version() : sqlite_schema_version();
}

std::string describe_store(const config::StoreConfig& store) {
  if (store.kind == config::StoreConfig::Kind::kPostgres) {
    return "postgres " + describe_postgres_dsn(store.postgres_dsn);
  }
  return fmt::format("sqlite {}", store.sqlite_path);
}

}  // namespace s3reconcile::cli
