// How the process's allocator is set up for passes.
#pragma once

namespace s3reconcile {

// A pass allocates and frees page-sized buffers a thousand times per million
// keys: listing bodies of a few hundred KiB, index pages, batches of entries.
// glibc maps each block above its mmap threshold (128 KiB at first) with
// mmap and unmaps it when freed, so every page costs system calls and page
// faults (measured: the index cursor alone spent 0.4 s of system time on
// them per million rows, more than its own work). This keeps such blocks in
// the heap, where the next page reuses them, and lets the heap keep what it
// grew to: the peak is still bounded by the pages in flight, so memory
// stays flat (BENCHMARKS.md, figure 1). Call once, first thing in main().
void tune_allocator_for_passes();

}  // namespace s3reconcile
