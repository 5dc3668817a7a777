#ifndef HZSR_FRAME_MEMORY_H
#define HZSR_FRAME_MEMORY_H

#include <stdbool.h>

/// Returns the memory that freed frames hold to the system. The daemon calls it once its queue
/// has been empty a while, so that one large pair does not keep its memory for days.
void hz_release_freed_frames(void);

/// While `on`, each block of 4 MiB or more (a plane, a tile's buffer) is mapped on its own and
/// unmapped when it is freed, rather than cut from the heap. For a pair of large frames (100 MP),
/// whose buffers differ in size and lifetime: cut from the heap, they left holes that later ones
/// did not fit, and the heap grew 50 % past what was ever in use at once. Their pages are faulted
/// in fresh, a small part of such a pair's time; 12 MP pairs keep the heap as their pool.
void hz_map_large_blocks(bool on);

#endif
