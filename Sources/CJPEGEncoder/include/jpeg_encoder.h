// Encoding a frame from its Y, Cb and Cr planes with libjpeg(-turbo)'s raw-data path, in
// horizontal strips that can be encoded on different cores and joined into one file.
//
// Every MCU row is a restart interval of its own, so no strip depends on another (the DC
// predictions start anew at each restart). A strip is written as a complete JPEG of the strip's
// height: its entropy-coded data are the bytes a single encode of the frame writes for those
// rows, and the caller joins them (HZImageIO's JPEGEncoder.swift). TurboJPEG 2.1 sets no
// restart interval and encodes on one core.
#ifndef HZ_JPEG_ENCODER_H
#define HZ_JPEG_ENCODER_H

/// The frame to encode, a row of MCUs at a time: each plane's buffer holds one MCU row, whole
/// blocks across, which `fill(context, mcu_row)` writes before that row is encoded, its samples
/// past the image repeating the last column and row, as libjpeg's raw-data input must
/// (hzjpeg_padded_plane says how large each plane is in all). No frame is held in 8 bits.
typedef struct {
    const unsigned char *planes[3];
    /// Bytes from one row of each plane's buffer to the next.
    int strides[3];
    void (*fill)(void *context, int mcu_row);
    void *context;
    /// The frame's luma size.
    int width, height;
    /// Luma's sampling factors against chroma's: 1 or 2 each (2 and 2 for 4:2:0).
    int h_sampling, v_sampling;
    /// 1…100, libjpeg's scale of its standard quantisation tables.
    int quality;
} hzjpeg_raw_frame;

/// The buffer size component `index` needs: whole blocks across, whole MCU rows down.
void hzjpeg_padded_plane(const hzjpeg_raw_frame *frame, int index, int *width, int *height);

/// The frame's MCU rows, each 8 × v_sampling luma rows high.
int hzjpeg_mcu_rows(const hzjpeg_raw_frame *frame);

/// Encodes MCU rows [first_row, first_row + row_count) as a complete baseline JPEG (JFIF, standard
/// Huffman tables, a restart interval per MCU row): 0, with *jpeg (to free()) holding *size bytes,
/// or -1 with `error` (200 bytes) set.
int hzjpeg_encode_strip(
    const hzjpeg_raw_frame *frame, int first_row, int row_count, unsigned char **jpeg, unsigned long *size,
    char error[200]);

#endif
