#include "jpeg_encoder.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
// jpeglib.h needs size_t and FILE declared before it.
#include <jpeglib.h>
#include <jerror.h>

struct failure {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char *message;
};

// libjpeg's error_exit must not return: the message is kept and control goes back to the setjmp.
static void fail(j_common_ptr info) {
    struct failure *failure = (struct failure *)info->err;
    char message[JMSG_LENGTH_MAX];
    info->err->format_message(info, message);
    snprintf(failure->message, 200, "%s", message);
    longjmp(failure->jump, 1);
}

static void stay_silent(j_common_ptr info, int level) {
    (void)info;
    (void)level;
}

// A destination that grows its buffer by realloc and keeps the caller's pointer current at each
// step, so that after an error the caller frees exactly the live buffer. (libjpeg's
// jpeg_mem_dest updates it only when compression ends: after an error it may still name the
// first buffer, which growing had already freed.)
struct growing_destination {
    struct jpeg_destination_mgr manager;
    unsigned char **buffer;
    size_t capacity;
};

static void start_growing(j_compress_ptr info) {
    struct growing_destination *destination = (struct growing_destination *)info->dest;
    destination->manager.next_output_byte = *destination->buffer;
    destination->manager.free_in_buffer = destination->capacity;
}

// Called when the buffer is full: doubles it.
static boolean grow(j_compress_ptr info) {
    struct growing_destination *destination = (struct growing_destination *)info->dest;
    size_t capacity = 2 * destination->capacity;
    unsigned char *larger = realloc(*destination->buffer, capacity);
    if (larger == NULL) ERREXIT1(info, JERR_OUT_OF_MEMORY, 10);
    *destination->buffer = larger;
    destination->manager.next_output_byte = larger + destination->capacity;
    destination->manager.free_in_buffer = capacity - destination->capacity;
    destination->capacity = capacity;
    return TRUE;
}

static void finish_growing(j_compress_ptr info) { (void)info; }

static int rounded_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

static int mcu_height(const hzjpeg_raw_frame *frame) { return DCTSIZE * frame->v_sampling; }

int hzjpeg_mcu_rows(const hzjpeg_raw_frame *frame) {
    return (frame->height + mcu_height(frame) - 1) / mcu_height(frame);
}

void hzjpeg_padded_plane(const hzjpeg_raw_frame *frame, int index, int *width, int *height) {
    int h = index == 0 ? 1 : frame->h_sampling, v = index == 0 ? 1 : frame->v_sampling;
    *width = rounded_up((frame->width + h - 1) / h, DCTSIZE);
    *height = hzjpeg_mcu_rows(frame) * mcu_height(frame) / v;
}

// The strip's rows of each plane handed to libjpeg an MCU row at a time, each first written
// into the buffers by `fill`.
static void write_rows(struct jpeg_compress_struct *info, const hzjpeg_raw_frame *frame, int first_row, int row_count) {
    JSAMPROW rows[3][2 * DCTSIZE];
    JSAMPARRAY components[3] = {rows[0], rows[1], rows[2]};
    for (int mcu = first_row; mcu < first_row + row_count; mcu++) {
        frame->fill(frame->context, mcu);
        for (int c = 0; c < 3; c++) {
            int height = DCTSIZE * (c == 0 ? frame->v_sampling : 1);
            for (int y = 0; y < height; y++) rows[c][y] = (JSAMPROW)(frame->planes[c] + (size_t)y * frame->strides[c]);
        }
        jpeg_write_raw_data(info, components, mcu_height(frame));
    }
}

int hzjpeg_encode_strip(
    const hzjpeg_raw_frame *frame, int first_row, int row_count, unsigned char **jpeg, unsigned long *size,
    char error[200]) {
    struct jpeg_compress_struct info;
    struct failure failure = {.message = error};
    error[0] = 0;
    *jpeg = NULL;
    *size = 0;
    info.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = fail;
    failure.manager.emit_message = stay_silent;
    int top = first_row * mcu_height(frame), bottom = (first_row + row_count) * mcu_height(frame);
    // A quarter of a byte per pixel: a photograph at quality 90 needs about twice that.
    struct growing_destination destination = {
        .manager = {.init_destination = start_growing, .empty_output_buffer = grow, .term_destination = finish_growing},
        .buffer = jpeg,
        .capacity = 65536 + (size_t)frame->width * (size_t)(bottom - top) / 4,
    };
    if ((*jpeg = malloc(destination.capacity)) == NULL) {
        snprintf(error, 200, "out of memory for the encoded strip");
        return -1;
    }
    if (setjmp(failure.jump)) {
        jpeg_destroy_compress(&info);
        free(*jpeg);
        *jpeg = NULL;
        return -1;
    }
    jpeg_create_compress(&info);
    info.dest = &destination.manager;
    info.image_width = (JDIMENSION)frame->width;
    info.image_height = (JDIMENSION)((bottom < frame->height ? bottom : frame->height) - top);
    info.input_components = 3;
    info.in_color_space = JCS_YCbCr;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, frame->quality, TRUE);
    // TurboJPEG's choice, kept so that outputs keep their pixels: the fast integer DCT below
    // quality 96, where its error is below the quantisation's, and the accurate one above.
    info.dct_method = frame->quality >= 96 ? JDCT_ISLOW : JDCT_FASTEST;
    info.comp_info[0].h_samp_factor = frame->h_sampling;
    info.comp_info[0].v_samp_factor = frame->v_sampling;
    info.comp_info[1].h_samp_factor = info.comp_info[1].v_samp_factor = 1;
    info.comp_info[2].h_samp_factor = info.comp_info[2].v_samp_factor = 1;
    info.raw_data_in = TRUE;
    info.restart_in_rows = 1;
    jpeg_start_compress(&info, TRUE);
    write_rows(&info, frame, first_row, row_count);
    jpeg_finish_compress(&info);
    *size = (unsigned long)(destination.capacity - destination.manager.free_in_buffer);
    jpeg_destroy_compress(&info);
    return 0;
}
