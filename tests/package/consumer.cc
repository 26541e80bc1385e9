// Reconciles a folder into a SQLite index through the installed library, and
// links the PostgreSQL store.
#include <cstdio>

#include "s3reconcile/local_backend.h"
#include "s3reconcile/postgres_store.h"
#include "s3reconcile/reconcile.h"
#include "s3reconcile/sqlite_store.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  // The PostgreSQL store links too: libpq comes through the package's dependencies.
  if (s3reconcile::postgres_schema_version() < s3reconcile::sqlite_schema_version()) return 3;
  auto store = s3reconcile::open_sqlite_store({argv[2]});
  if (!store.ok()) return 1;
  s3reconcile::LocalBackend local({argv[1], 1000});
  s3reconcile::BackendRef backend{"disk", &local, &local, {"bkt"}, true};
  auto result = s3reconcile::reconcile_backend(backend, {"bkt"}, **store, {}, s3reconcile::PassScope{"bkt"});
  std::printf("imported %llu\n", static_cast<unsigned long long>(result.imported));
  return result.status.ok() ? 0 : 1;
}
