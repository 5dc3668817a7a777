// Decoding a JPEG straight to its Y, Cb and Cr planes with libjpeg(-turbo)'s raw-data path, with
// exact error reporting: a fatal error is always an error, and every warning is kept apart.
//
// TurboJPEG 2.1 (tjDecompressToYUVPlanes) cannot tell them apart: its error code says "warning"
// whenever any warning came first, even when a fatal error then stopped the decode halfway, and
// it reports only the first warning. libjpeg's own error manager, installed here, can.
#ifndef HZ_JPEG_DECODER_H
#define HZ_JPEG_DECODER_H

#include <stddef.h>

/// How many warnings a decoder keeps the text of; it counts them all.
#define HZJPEG_KEPT_WARNINGS 8

/// What a JPEG's frame holds, read from its headers.
typedef struct {
    int width, height;
    /// 1 (grayscale) or 3 (YCbCr); component 0 is luma.
    int component_count;
} hzjpeg_frame;

/// One component's plane.
typedef struct {
    /// The samples that belong to the image.
    int width, height;
    /// The samples libjpeg decodes: whole blocks and whole block rows.
    int buffer_width, buffer_height;
} hzjpeg_plane;

typedef struct hzjpeg_decoder hzjpeg_decoder;

/// A decoder on `size` bytes of JPEG in memory, which must outlive it; NULL when out of memory.
hzjpeg_decoder *hzjpeg_create(const unsigned char *jpeg, size_t size);
void hzjpeg_destroy(hzjpeg_decoder *decoder);

/// Reads the headers: 0, or -1 with hzjpeg_error set when they are unreadable or describe a
/// frame this decoder does not take (not grayscale or YCbCr, chroma sampled in an unusual way).
int hzjpeg_read_frame(hzjpeg_decoder *decoder, hzjpeg_frame *frame);

/// Component `index`'s plane in the frame hzjpeg_read_frame described; all zero for another index.
hzjpeg_plane hzjpeg_frame_plane(const hzjpeg_decoder *decoder, int index);

/// Decodes every plane of the frame hzjpeg_read_frame described into `planes[c]`, each
/// width[c] × height[c] bytes, row after row (a band of whole blocks at a time, inside the
/// decoder): 0, or -1 with hzjpeg_error set. Warnings (corrupt data the decoder skipped) do not
/// fail it.
int hzjpeg_read_planes(hzjpeg_decoder *decoder, unsigned char *const planes[3]);

/// The fatal error's message, or "" when none happened.
const char *hzjpeg_error(const hzjpeg_decoder *decoder);
/// Every warning so far, the first HZJPEG_KEPT_WARNINGS with their text.
int hzjpeg_warning_count(const hzjpeg_decoder *decoder);
const char *hzjpeg_warning(const hzjpeg_decoder *decoder, int index);
/// 1 when a warning so far means pixels were lost or guessed (corrupt or missing entropy-coded
/// data), 0 while the picture is intact (no warning, an odd JFIF revision, stray bytes between
/// segments).
int hzjpeg_pixels_damaged(const hzjpeg_decoder *decoder);

#endif
