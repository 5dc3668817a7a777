#include "frame_memory.h"

#include <limits.h>
#include <malloc.h>

// glibc serves every block above 32 MiB with a fresh mmap and unmaps it when it is freed, so
// each capture's 12 MP planes (48 MB each) faulted their pages in again, one 4 KiB page at a
// time, each zeroed by the kernel: over half the pipeline's CPU time. Here a freed frame stays
// in the heap and the next capture's planes are cut from it: the heap is the pipeline's buffer
// pool, with glibc's best-fit reuse. One arena keeps the frames of the worker threads in that
// one pool. This runs before main, before any thread has taken an arena.
__attribute__((constructor)) static void keep_freed_frames(void) {
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
    // In force only while large blocks are mapped.
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

void hz_release_freed_frames(void) { malloc_trim(0); }

void hz_map_large_blocks(bool on) { mallopt(M_MMAP_MAX, on ? INT_MAX : 0); }
