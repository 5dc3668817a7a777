#include "jpeg_decoder.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
// jpeglib.h needs size_t and FILE declared before it.
#include <jpeglib.h>
#include <jerror.h>

// Each scan of a progressive file is another pass over the whole frame's coefficients. Cameras
// write about ten; a crafted file with thousands would keep a worker busy for minutes.
enum { MAX_SCANS = 500 };

struct hzjpeg_decoder {
    struct jpeg_decompress_struct info;
    struct jpeg_error_mgr errors;
    struct jpeg_progress_mgr progress;
    jmp_buf failure;
    const unsigned char *jpeg;
    size_t size;
    hzjpeg_frame frame;
    hzjpeg_plane planes[3];
    int frame_read;
    char error[JMSG_LENGTH_MAX];
    char warnings[HZJPEG_KEPT_WARNINGS][JMSG_LENGTH_MAX];
    int warning_count;
    int pixels_damaged;
    int data_ended;
};

static hzjpeg_decoder *decoder_of(j_common_ptr info) { return (hzjpeg_decoder *)info->client_data; }

// libjpeg's error_exit must not return: the message is kept and control goes back to the
// setjmp of the public function that called into libjpeg.
static void fail(j_common_ptr info) {
    hzjpeg_decoder *decoder = decoder_of(info);
    info->err->format_message(info, decoder->error);
    longjmp(decoder->failure, 1);
}

static int damages_pixels(int code) {
    switch (code) {
    case JWRN_JFIF_MAJOR:
    case JWRN_ADOBE_XFORM:
    case JWRN_BOGUS_ICC:
    case JWRN_EXTRANEOUS_DATA:  // bytes between segments: the scans themselves were whole
        return 0;
    default:
        return 1;
    }
}

// Once the data have ended early, libjpeg finds the end (EOI, 0xd9) at every restart marker it
// still expects and says so each time: the same loss again, so neither kept nor counted.
static int repeats_the_end(hzjpeg_decoder *decoder, const struct jpeg_error_mgr *errors) {
    if (errors->msg_code == JWRN_HIT_MARKER) decoder->data_ended = 1;
    return decoder->data_ended && errors->msg_code == JWRN_MUST_RESYNC && errors->msg_parm.i[0] == JPEG_EOI;
}

// Level -1 is a warning; levels 0 and up are trace messages, which nobody reads.
static void note(j_common_ptr info, int level) {
    if (level >= 0) return;
    hzjpeg_decoder *decoder = decoder_of(info);
    if (repeats_the_end(decoder, info->err)) return;
    if (decoder->warning_count < HZJPEG_KEPT_WARNINGS)
        info->err->format_message(info, decoder->warnings[decoder->warning_count]);
    decoder->pixels_damaged |= damages_pixels(info->err->msg_code);
    if (decoder->warning_count < INT_MAX) decoder->warning_count++;
}

// Messages go to the caller, never to stderr.
static void stay_silent(j_common_ptr info) { (void)info; }

static void refuse(hzjpeg_decoder *decoder, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(decoder->error, sizeof decoder->error, format, arguments);
    va_end(arguments);
    longjmp(decoder->failure, 1);
}

static void limit_scans(j_common_ptr info) {
    j_decompress_ptr decompress = (j_decompress_ptr)info;
    if (decompress->input_scan_number > MAX_SCANS)
        refuse(decoder_of(info), "more than %d scans in a progressive JPEG", MAX_SCANS);
}

hzjpeg_decoder *hzjpeg_create(const unsigned char *jpeg, size_t size) {
    hzjpeg_decoder *decoder = calloc(1, sizeof *decoder);
    if (decoder == NULL) return NULL;
    decoder->jpeg = jpeg;
    decoder->size = size;
    decoder->info.err = jpeg_std_error(&decoder->errors);
    decoder->errors.error_exit = fail;
    decoder->errors.emit_message = note;
    decoder->errors.output_message = stay_silent;
    decoder->info.client_data = decoder;
    if (setjmp(decoder->failure)) {  // only when libjpeg cannot allocate its memory manager
        jpeg_destroy_decompress(&decoder->info);
        free(decoder);
        return NULL;
    }
    jpeg_create_decompress(&decoder->info);
    decoder->progress.progress_monitor = limit_scans;
    decoder->info.progress = &decoder->progress;
    return decoder;
}

void hzjpeg_destroy(hzjpeg_decoder *decoder) {
    if (decoder == NULL) return;
    jpeg_destroy_decompress(&decoder->info);
    free(decoder);
}

static const char *colour_space_name(J_COLOR_SPACE space) {
    switch (space) {
    case JCS_GRAYSCALE: return "grayscale";
    case JCS_RGB: return "RGB";
    case JCS_YCbCr: return "YCbCr";
    case JCS_CMYK: return "CMYK";
    case JCS_YCCK: return "YCCK";
    default: return "an unknown colour space";
    }
}

// Chroma subsampled by 1, 2 or 4 horizontally and 1 or 2 vertically (4:4:4, 4:2:2, 4:2:0,
// 4:4:0, 4:1:1), however the factors are written: luma at the largest factors, Cb and Cr alike.
static int has_usual_chroma_sampling(const struct jpeg_decompress_struct *info) {
    const jpeg_component_info *luma = &info->comp_info[0], *cb = &info->comp_info[1], *cr = &info->comp_info[2];
    if (cb->h_samp_factor != cr->h_samp_factor || cb->v_samp_factor != cr->v_samp_factor) return 0;
    if (luma->h_samp_factor != info->max_h_samp_factor || luma->v_samp_factor != info->max_v_samp_factor) return 0;
    if (luma->h_samp_factor % cb->h_samp_factor != 0 || luma->v_samp_factor % cb->v_samp_factor != 0) return 0;
    int across = luma->h_samp_factor / cb->h_samp_factor, down = luma->v_samp_factor / cb->v_samp_factor;
    return (across == 1 || across == 2 || across == 4) && (down == 1 || down == 2) && !(across == 4 && down == 2);
}

static void describe_frame(hzjpeg_decoder *decoder) {
    struct jpeg_decompress_struct *info = &decoder->info;
    int count = info->num_components;
    int grayscale = count == 1 && info->jpeg_color_space == JCS_GRAYSCALE;
    if (!grayscale && !(count == 3 && info->jpeg_color_space == JCS_YCbCr))
        refuse(decoder, "%d components in %s: only grayscale and YCbCr JPEGs are decoded", count,
               colour_space_name(info->jpeg_color_space));
    if (!grayscale && !has_usual_chroma_sampling(info)) {
        const jpeg_component_info *c = info->comp_info;
        refuse(decoder, "unsupported chroma sampling: Y %d×%d, Cb %d×%d, Cr %d×%d", c[0].h_samp_factor,
               c[0].v_samp_factor, c[1].h_samp_factor, c[1].v_samp_factor, c[2].h_samp_factor,
               c[2].v_samp_factor);
    }
    hzjpeg_frame *frame = &decoder->frame;
    frame->width = (int)info->image_width;
    frame->height = (int)info->image_height;
    frame->component_count = count;
    for (int c = 0; c < count; c++) {
        const jpeg_component_info *component = &info->comp_info[c];
        decoder->planes[c] = (hzjpeg_plane){
            .width = (int)component->downsampled_width,
            .height = (int)component->downsampled_height,
            .buffer_width = (int)component->width_in_blocks * DCTSIZE,
            .buffer_height = (int)info->total_iMCU_rows * component->v_samp_factor * DCTSIZE,
        };
    }
}

int hzjpeg_read_frame(hzjpeg_decoder *decoder, hzjpeg_frame *frame) {
    if (setjmp(decoder->failure)) return -1;
    jpeg_mem_src(&decoder->info, decoder->jpeg, (unsigned long)decoder->size);
    jpeg_read_header(&decoder->info, TRUE);
    describe_frame(decoder);
    decoder->frame_read = 1;
    *frame = decoder->frame;
    return 0;
}

int hzjpeg_read_planes(hzjpeg_decoder *decoder, unsigned char *const planes[3]) {
    struct jpeg_decompress_struct *info = &decoder->info;
    JSAMPARRAY band[3];
    if (setjmp(decoder->failure)) return -1;
    if (!decoder->frame_read) refuse(decoder, "planes read before the frame header");
    info->raw_data_out = TRUE;
    jpeg_start_decompress(info);
    // One iMCU row per call, into a band of whole blocks that libjpeg's image pool owns (freed
    // however decoding ends), zeroed once; the rows inside the image are copied out, packed.
    int count = decoder->frame.component_count;
    for (int c = 0; c < count; c++) {
        JDIMENSION width = (JDIMENSION)decoder->planes[c].buffer_width;
        JDIMENSION rows = (JDIMENSION)info->comp_info[c].v_samp_factor * DCTSIZE;
        band[c] = (*info->mem->alloc_sarray)((j_common_ptr)info, JPOOL_IMAGE, width, rows);
        for (JDIMENSION row = 0; row < rows; row++) memset(band[c][row], 0, width);
    }
    JDIMENSION lines = (JDIMENSION)info->max_v_samp_factor * DCTSIZE;
    for (size_t iMCURow = 0; info->output_scanline < info->output_height; iMCURow++) {
        if (jpeg_read_raw_data(info, band, lines) == 0) refuse(decoder, "the decoder stopped before the last row");
        for (int c = 0; c < count; c++) {
            const hzjpeg_plane *plane = &decoder->planes[c];
            size_t height = (size_t)info->comp_info[c].v_samp_factor * DCTSIZE;
            for (size_t row = 0; row < height && iMCURow * height + row < (size_t)plane->height; row++)
                memcpy(planes[c] + (iMCURow * height + row) * (size_t)plane->width, band[c][row], (size_t)plane->width);
        }
    }
    jpeg_finish_decompress(info);
    return 0;
}

hzjpeg_plane hzjpeg_frame_plane(const hzjpeg_decoder *decoder, int index) {
    return decoder->frame_read && index >= 0 && index < decoder->frame.component_count ? decoder->planes[index]
                                                                                        : (hzjpeg_plane){ 0 };
}

const char *hzjpeg_error(const hzjpeg_decoder *decoder) { return decoder->error; }

int hzjpeg_warning_count(const hzjpeg_decoder *decoder) { return decoder->warning_count; }

const char *hzjpeg_warning(const hzjpeg_decoder *decoder, int index) {
    return index >= 0 && index < HZJPEG_KEPT_WARNINGS && index < decoder->warning_count ? decoder->warnings[index] : "";
}

int hzjpeg_pixels_damaged(const hzjpeg_decoder *decoder) { return decoder->pixels_damaged; }
