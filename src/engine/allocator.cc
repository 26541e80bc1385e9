#include "s3reconcile/allocator.h"

#include <malloc.h>

namespace s3reconcile {

void tune_allocator_for_passes() {
  // Blocks up to 32 MiB come from the heap (an answer is capped at 16 MiB:
  // HttpOptions::max_body_bytes), and up to 64 MiB of free heap is kept
  // rather than trimmed after each page.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
}

}  // namespace s3reconcile
