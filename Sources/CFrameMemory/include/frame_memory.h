#ifndef HZSR_FRAME_MEMORY_H
#define HZSR_FRAME_MEMORY_H

/// Returns the memory that freed frames hold to the system. The daemon calls it once its queue
/// has been empty a while, so that one large pair does not keep its memory for days.
void hz_release_freed_frames(void);

#endif
