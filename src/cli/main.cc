// s3reconcile: a thin shell over the library; see cli/app.h.
#include "cli/app.h"
#include "s3reconcile/allocator.h"

int main(int argc, char** argv) {
  s3reconcile::tune_allocator_for_passes();
  return s3reconcile::cli::run_app(argc, argv);
}
