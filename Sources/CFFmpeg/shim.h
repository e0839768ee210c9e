#ifndef SONODUAL_CFFMPEG_SHIM_H
#define SONODUAL_CFFMPEG_SHIM_H
#include <errno.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

/* Macros that Swift cannot import (function-like, FFERRTAG, compound literals). */
static inline int shim_averror_eof(void) { return AVERROR_EOF; }
static inline int shim_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int shim_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t shim_av_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational shim_av_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int shim_pix_fmt_flag_rgb(void) { return AV_PIX_FMT_FLAG_RGB; }
static inline int shim_pix_fmt_flag_pal(void) { return AV_PIX_FMT_FLAG_PAL; }
static inline int shim_pix_fmt_flag_be(void) { return AV_PIX_FMT_FLAG_BE; }
static inline int shim_pix_fmt_flag_bitstream(void) { return AV_PIX_FMT_FLAG_BITSTREAM; }
static inline int shim_pix_fmt_flag_hwaccel(void) { return AV_PIX_FMT_FLAG_HWACCEL; }

/* Rotation in degrees (counter-clockwise, as av_display_rotation_get reports it) from a
   stream's display matrix, or NAN when the stream has none. */
static inline double shim_stream_rotation(const AVStream *st) {
    size_t size = 0;
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (!m || size < 9 * sizeof(int32_t)) return __builtin_nan("");
    return av_display_rotation_get((const int32_t *)m);
}

/* Silence FFmpeg's own logging below the given level (we report errors ourselves). */
static inline void shim_av_log_set_level(int level) { av_log_set_level(level); }
#endif
