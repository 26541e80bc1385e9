#include "s3reconcile/db_key_lister.h"

namespace s3reconcile {

StatusOr<std::vector<IndexRow>> list_rows_by_storage_key(DBKeyLister& lister, std::string_view backend,
                                                         const RowPosition& after, std::size_t limit,
                                                         const KeyRange& range) {
  std::vector<IndexRow> rows;
  Status listed = lister.list_by_storage_key(backend, after, limit, range, rows);
  if (!listed.ok()) return listed;
  return rows;
}

}  // namespace s3reconcile
