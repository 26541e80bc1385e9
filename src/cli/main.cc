// s3reconcile: a thin shell over the library; see cli/app.h.
#include "cli/app.h"

int main(int argc, char** argv) { return s3reconcile::cli::run_app(argc, argv); }
