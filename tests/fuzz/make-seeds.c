/* SPDX-License-Identifier: MIT */
/*
 * Writes the generated seeds of tests/fuzz (config/ is written by hand):
 *   build/tests/fuzz/fuzz-make-seeds tests/fuzz
 * props/ and format/ are pods as peers send them (built with SPA's builder, and castrelay's
 * own builders where a peer would send what castrelay sends), buffer/ and meta/ follow the
 * encoding of buffer-input.h. Names say what the target must make of them (fuzz.h).
 */
#include <errno.h>
#include <string.h>

#include <drm_fourcc.h>
#include <spa/param/format-utils.h>
#include <spa/param/props.h>
#include <spa/param/video/format-utils.h>
#include <spa/buffer/buffer.h>
#include <spa/buffer/meta.h>
#include <spa/pod/builder.h>

#include "pw-format.h"

static const char *root;

static void save(const char *dir, const char *name, const void *data, size_t size)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		fprintf(stderr, "make-seeds: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static void save_pod(const char *dir, const char *name, const struct spa_pod *pod)
{
	if (!pod) {
		fprintf(stderr, "make-seeds: %s/%s: the builder overflowed\n", dir, name);
		exit(1);
	}
	save(dir, name, pod, SPA_POD_SIZE(pod));
}

/* ---- props --------------------------------------------------------------------------- */

/* Props { params = [ pairs... ] }: @add writes the struct's contents. */
static struct spa_pod *props(struct spa_pod_builder *b,
			     void (*add)(struct spa_pod_builder *b))
{
	struct spa_pod_frame obj, st;
	spa_pod_builder_push_object(b, &obj, SPA_TYPE_OBJECT_Props, SPA_PARAM_Props);
	spa_pod_builder_prop(b, SPA_PROP_params, 0);
	spa_pod_builder_push_struct(b, &st);
	add(b);
	spa_pod_builder_pop(b, &st);
	return spa_pod_builder_pop(b, &obj);
}

static void add_crop(struct spa_pod_builder *b)
{
	spa_pod_builder_add(b, SPA_POD_String("crop.x"), SPA_POD_Int(100),
			    SPA_POD_String("crop.y"), SPA_POD_Int(50),
			    SPA_POD_String("crop.width"), SPA_POD_Int(640),
			    SPA_POD_String("crop.height"), SPA_POD_Int(360), NULL);
}

/* Every value type pw-cli's JSON can give. */
static void add_types(struct spa_pod_builder *b)
{
	spa_pod_builder_add(b, SPA_POD_String("fps"), SPA_POD_Long(30),
			    SPA_POD_String("pixelate"), SPA_POD_Float(8.0f),
			    SPA_POD_String("scale.width"), SPA_POD_Double(320.0),
			    SPA_POD_String("scale.height"), SPA_POD_Int(180),
			    SPA_POD_String("cursor"), SPA_POD_String("meta"),
			    SPA_POD_String("redact"), SPA_POD_String("1,2,3,4;10,20,30,40"), NULL);
}

static void add_unknown(struct spa_pod_builder *b)
{
	spa_pod_builder_add(b, SPA_POD_String("crop.x"), SPA_POD_Int(1),
			    SPA_POD_String("volume"), SPA_POD_Float(0.5f), NULL);
}

static void add_out_of_range(struct spa_pod_builder *b)
{
	spa_pod_builder_add(b, SPA_POD_String("fps"), SPA_POD_Int(5000), NULL);
}

static void add_bool(struct spa_pod_builder *b)
{
	spa_pod_builder_add(b, SPA_POD_String("pixelate"), SPA_POD_Bool(true), NULL);
}

static void add_odd(struct spa_pod_builder *b)
{
	spa_pod_builder_add(b, SPA_POD_String("crop.x"), SPA_POD_Int(1), SPA_POD_String("fps"),
			    NULL);
}

static void add_nested(struct spa_pod_builder *b)
{
	struct spa_pod_frame f;
	spa_pod_builder_string(b, "redact");
	spa_pod_builder_push_struct(b, &f);
	spa_pod_builder_int(b, 1);
	spa_pod_builder_pop(b, &f);
}

static void add_not_string(struct spa_pod_builder *b)
{
	spa_pod_builder_add(b, SPA_POD_Int(7), SPA_POD_Int(1), NULL);
}

static void add_nothing(struct spa_pod_builder *b)
{
}

static void write_props(void)
{
	uint8_t buffer[4096];
	static const struct {
		const char *name;
		void (*add)(struct spa_pod_builder *b);
	} cases[] = {
		{ "valid-crop", add_crop },
		{ "valid-every-type", add_types },
		{ "valid-bool", add_bool },
		{ "invalid-unknown-key", add_unknown },
		{ "invalid-fps-5000", add_out_of_range },
		{ "invalid-struct-value", add_nested },
		{ "invalid-empty", add_nothing },
		{ "invalid-key-not-string", add_not_string },
		{ "edge-key-without-value", add_odd },
	};
	for (size_t i = 0; i < SPA_N_ELEMENTS(cases); i++) {
		struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
		save_pod("props", cases[i].name, props(&b, cases[i].add));
	}
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	save_pod("props", "invalid-no-params",
		 spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_Props, SPA_PARAM_Props,
					    SPA_PROP_volume, SPA_POD_Float(1.0f)));
	b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer));
	save_pod("props", "invalid-params-not-struct",
		 spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_Props, SPA_PARAM_Props,
					    SPA_PROP_params, SPA_POD_String("crop.x")));
}

/* ---- format -------------------------------------------------------------------------- */

static void write_format(void)
{
	uint8_t buffer[4096];
	struct spa_pod_builder b;
	const struct cr_format_info *bgrx = cr_format_info_from_name("BGRx");
	const struct cr_format_info *nv12 = cr_format_info_from_name("NV12");
	const uint64_t mods[] = { DRM_FORMAT_MOD_NVIDIA_BLOCK_LINEAR_2D(0, 1, 1, 6, 4),
				  DRM_FORMAT_MOD_LINEAR };
#define BUILD(name, expr) \
	b = SPA_POD_BUILDER_INIT(buffer, sizeof(buffer)); \
	save_pod("format", name, expr)

	/* What castrelay's own producer side sends, as another castrelay's input sees it. */
	BUILD("valid-bgrx-shm", cr_pw_format_build_fixed(&b, SPA_PARAM_Format, bgrx, 1920, 1080,
							    60, CR_COLOR_BT709, false));
	BUILD("valid-nv12-bt601-full", cr_pw_format_build_fixed(&b, SPA_PARAM_Format, nv12, 641,
								 361, 30, CR_COLOR_BT601, true));
	BUILD("valid-dmabuf-fixated",
	      cr_pw_format_build_fixed_dmabuf(&b, SPA_PARAM_Format, bgrx, 256, 256, 60,
					      CR_COLOR_BT709, false, &mods[1], 1, true));
	/* A consumer's Format that still holds the modifier choice (pw-output fixates it). */
	BUILD("valid-dmabuf-choice",
	      cr_pw_format_build_fixed_dmabuf(&b, SPA_PARAM_Format, bgrx, 256, 256, 60,
					      CR_COLOR_BT709, false, mods, 2, false));
	/* Our consumer's EnumFormat, ranges and all, where a Format is expected. */
	BUILD("edge-enum-as-format", cr_pw_format_build_enum(&b, bgrx, mods, 2));
	BUILD("invalid-audio",
	      spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_Format, SPA_PARAM_Format,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_audio),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw)));
	BUILD("invalid-yuy2",
	      spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_Format, SPA_PARAM_Format,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
		SPA_FORMAT_VIDEO_format, SPA_POD_Id(SPA_VIDEO_FORMAT_YUY2),
		SPA_FORMAT_VIDEO_size, SPA_POD_Rectangle(&SPA_RECTANGLE(64, 64))));
	BUILD("invalid-no-size",
	      spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_Format, SPA_PARAM_Format,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
		SPA_FORMAT_VIDEO_format, SPA_POD_Id(SPA_VIDEO_FORMAT_BGRx)));
	BUILD("invalid-zero-size",
	      spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_Format, SPA_PARAM_Format,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
		SPA_FORMAT_VIDEO_format, SPA_POD_Id(SPA_VIDEO_FORMAT_BGRx),
		SPA_FORMAT_VIDEO_size, SPA_POD_Rectangle(&SPA_RECTANGLE(0, 64))));
	BUILD("invalid-modifier-int",
	      spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_Format, SPA_PARAM_Format,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
		SPA_FORMAT_VIDEO_format, SPA_POD_Id(SPA_VIDEO_FORMAT_BGRx),
		SPA_FORMAT_VIDEO_size, SPA_POD_Rectangle(&SPA_RECTANGLE(64, 64)),
		SPA_FORMAT_VIDEO_modifier, SPA_POD_Int(0)));
	BUILD("valid-huge-size-zero-rate",
	      spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_Format, SPA_PARAM_Format,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
		SPA_FORMAT_VIDEO_format, SPA_POD_Id(SPA_VIDEO_FORMAT_RGBA),
		SPA_FORMAT_VIDEO_size, SPA_POD_Rectangle(&SPA_RECTANGLE(UINT32_MAX, UINT32_MAX)),
		SPA_FORMAT_VIDEO_framerate, SPA_POD_Fraction(&SPA_FRACTION(60, 0))));
#undef BUILD
}

/* ---- buffer and meta (buffer-input.h) ------------------------------------------------ */

struct out {
	uint8_t bytes[1 << 17];
	size_t n;
};

static void put(struct out *o, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		o->bytes[o->n++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct out *o, const void *data, size_t size)
{
	memcpy(o->bytes + o->n, data, size);
	o->n += size;
}

enum { BGRx, RGBx, BGRA, RGBA, XRGB210, XBGR210, NV12, I420 };
enum { SHM, LINEAR, TILED };

static void put_format(struct out *o, unsigned format, uint32_t w, uint32_t h, unsigned mod)
{
	put(o, format, 1);
	put(o, w - 1, 2);
	put(o, h - 1, 2);
	put(o, mod, 1);
}

struct data {
	uint8_t type, mapped;
	uint32_t maxsize, fd_size, offset, size;
	int32_t stride;
	uint32_t flags;
};

static void put_datas(struct out *o, const struct data *d, unsigned n)
{
	put(o, n - 1, 1);
	for (unsigned i = 0; i < n; i++) {
		put(o, d[i].type, 1);
		put(o, d[i].mapped, 1);
		put(o, d[i].maxsize, 4);
		put(o, d[i].fd_size, 4);
		put(o, d[i].offset, 4);
		put(o, d[i].size, 4);
		put(o, (uint32_t)d[i].stride, 4);
		put(o, d[i].flags, 4);
	}
}

static void put_meta(struct out *o, uint32_t type, uint32_t declared, const void *data,
		     uint32_t n)
{
	put(o, type, 1);
	put(o, declared, 4);
	put(o, n, 4);
	put_bytes(o, data, n);
}

static struct spa_meta_header header(uint32_t flags)
{
	return (struct spa_meta_header){ .flags = flags, .pts = 123456789, .seq = 7 };
}

static struct spa_meta_region region(int32_t x, int32_t y, uint32_t w, uint32_t h)
{
	return (struct spa_meta_region){ .region = { { x, y }, { w, h } } };
}

static void shm_one(struct out *o, unsigned format, uint32_t w, uint32_t h, uint32_t stride,
		    uint32_t maxsize, uint32_t offset, uint32_t chunk_flags)
{
	put_format(o, format, w, h, SHM);
	put_datas(o, &(struct data){ SPA_DATA_MemFd, 1, maxsize, 0, offset, maxsize - offset,
				     (int32_t)stride, chunk_flags }, 1);
}

static void write_buffer(void)
{
	struct out o;
	struct spa_meta_header hd = header(0), corrupt = header(SPA_META_HEADER_FLAG_CORRUPTED);
#define SAVE(name) save("buffer", name, o.bytes, o.n)
#define BEGIN() o.n = 0

	BEGIN(); shm_one(&o, BGRx, 64, 4, 256, 1024, 0, 0); put(&o, 0, 1);
	SAVE("valid-shm-bgrx");
	BEGIN(); shm_one(&o, RGBA, 60, 4, 256, 2048, 1024, 0);
	put(&o, 1, 1); put_meta(&o, SPA_META_Header, sizeof(hd), &hd, sizeof(hd));
	SAVE("valid-shm-rgba-offset-header");
	/* NV12 in one block (GStreamer's layout from the stride), and in two. */
	BEGIN(); shm_one(&o, NV12, 64, 6, 64, 64 * 9, 0, 0); put(&o, 0, 1);
	SAVE("valid-shm-nv12-one-block");
	BEGIN(); put_format(&o, NV12, 64, 6, SHM);
	put_datas(&o, (struct data[]){ { SPA_DATA_MemFd, 1, 384, 0, 0, 384, 64, 0 },
				       { SPA_DATA_MemFd, 1, 192, 0, 0, 192, 64, 0 } }, 2);
	put(&o, 0, 1); SAVE("valid-shm-nv12-two-blocks");
	BEGIN(); shm_one(&o, I420, 33, 5, 36, 36 * 6 + 2 * 20 * 3, 0, 0); put(&o, 0, 1);
	SAVE("valid-shm-i420-odd-size");
	BEGIN(); shm_one(&o, BGRx, 64, 4, 252, 1024, 0, 0); put(&o, 0, 1);
	SAVE("invalid-shm-stride-short");
	BEGIN(); shm_one(&o, BGRx, 64, 4, 256, 1020, 0, 0); put(&o, 0, 1);
	SAVE("invalid-shm-too-small");
	BEGIN(); shm_one(&o, BGRx, 64, 4, 256, 2048, 1028, 0); put(&o, 0, 1);
	SAVE("invalid-shm-offset-past-end");
	BEGIN(); shm_one(&o, BGRx, 64, 4, 256, 1024, 0, SPA_CHUNK_FLAG_CORRUPTED); put(&o, 0, 1);
	SAVE("invalid-chunk-corrupted");
	BEGIN(); put_format(&o, BGRx, 64, 4, SHM);
	put_datas(&o, &(struct data){ SPA_DATA_MemFd, 1, 1024, 0, 0, 0, 256, 0 }, 1);
	put(&o, 0, 1); SAVE("invalid-chunk-empty");
	BEGIN(); shm_one(&o, BGRx, 64, 4, 256, 1024, 0, 0);
	put(&o, 1, 1); put_meta(&o, SPA_META_Header, sizeof(corrupt), &corrupt, sizeof(corrupt));
	SAVE("invalid-header-corrupted");
	BEGIN(); put_format(&o, BGRx, 64, 4, SHM);
	put_datas(&o, &(struct data){ SPA_DATA_MemFd, 0, 1024, 0, 0, 1024, 256, 0 }, 1);
	put(&o, 0, 1); SAVE("invalid-shm-unmapped");
	/* DMA-BUF: LINEAR in one fd, NV12 disjoint, a tiled modifier, a bad offset. */
	BEGIN(); put_format(&o, BGRx, 64, 4, LINEAR);
	put_datas(&o, &(struct data){ SPA_DATA_DmaBuf, 0, 0, 4096, 0, 1024, 256, 0 }, 1);
	put(&o, 0, 1); SAVE("valid-dmabuf-linear");
	BEGIN(); put_format(&o, NV12, 64, 6, LINEAR);
	put_datas(&o, (struct data[]){ { SPA_DATA_DmaBuf, 0, 0, 384, 0, 384, 64, 0 },
				       { SPA_DATA_DmaBuf, 0, 0, 192, 0, 192, 64, 0 } }, 2);
	put(&o, 0, 1); SAVE("valid-dmabuf-nv12-disjoint");
	BEGIN(); put_format(&o, XRGB210, 64, 64, TILED);
	put_datas(&o, (struct data[]){ { SPA_DATA_DmaBuf, 0, 0, 65536, 0, 16384, 256, 0 },
				       { SPA_DATA_DmaBuf, 0, 0, 65536, 32768, 4096, 64, 0 } }, 2);
	put(&o, 0, 1); SAVE("valid-dmabuf-tiled-aux-plane");
	BEGIN(); put_format(&o, BGRx, 64, 4, LINEAR);
	put_datas(&o, &(struct data){ SPA_DATA_DmaBuf, 0, 0, 1024, 4, 1024, 256, 0 }, 1);
	put(&o, 0, 1); SAVE("invalid-dmabuf-offset-past-end");
	BEGIN(); put_format(&o, BGRx, 64, 4, LINEAR);
	put_datas(&o, &(struct data){ SPA_DATA_DmaBuf, 0, 0, 1024, 0, 1024, 0, 0 }, 1);
	put(&o, 0, 1); SAVE("valid-dmabuf-linear-stride-0");
	/* Explicit sync: a plane, then the acquire and release syncobjs. */
	struct spa_meta_sync_timeline st = { .acquire_point = 5, .release_point = 6 };
	BEGIN(); put_format(&o, BGRx, 64, 4, LINEAR);
	put_datas(&o, (struct data[]){ { SPA_DATA_DmaBuf, 0, 0, 1024, 0, 1024, 256, 0 },
				       { SPA_DATA_SyncObj, 0, 0, 0, 0, 0, 0, 0 },
				       { SPA_DATA_SyncObj, 0, 0, 0, 0, 0, 0, 0 } }, 3);
	put(&o, 1, 1); put_meta(&o, SPA_META_SyncTimeline, sizeof(st), &st, sizeof(st));
	SAVE("valid-dmabuf-sync-timeline");
	BEGIN(); put_format(&o, BGRx, 64, 4, LINEAR);
	put_datas(&o, (struct data[]){ { SPA_DATA_DmaBuf, 0, 0, 1024, 0, 1024, 256, 0 },
				       { SPA_DATA_SyncObj, 0, 0, 0, 0, 0, 0, 0 } }, 2);
	put(&o, 1, 1); put_meta(&o, SPA_META_SyncTimeline, 8, &st, 8);
	SAVE("edge-sync-timeline-short");
#undef SAVE
#undef BEGIN
}

static uint32_t cursor_meta(uint8_t *m, uint32_t id, uint32_t bitmap_offset, uint32_t format,
			    uint32_t w, uint32_t h, int32_t stride, uint32_t pixels_offset)
{
	struct spa_meta_cursor mc = { .id = id, .position = { 100, 50 }, .hotspot = { 2, 3 },
				      .bitmap_offset = bitmap_offset };
	memcpy(m, &mc, sizeof(mc));
	if (!bitmap_offset)
		return sizeof(mc);
	struct spa_meta_bitmap bm = { .format = format, .size = { w, h }, .stride = stride,
				      .offset = pixels_offset };
	memcpy(m + bitmap_offset, &bm, sizeof(bm));
	uint64_t start = (uint64_t)bitmap_offset + pixels_offset;
	uint64_t end = start + (uint64_t)stride * h;
	for (uint64_t i = start; i < end && end <= 1 << 16; i++)
		m[i] = (uint8_t)i;
	return (uint32_t)end;
}

static void write_meta(void)
{
	struct out o;
	static uint8_t m[1 << 16];
	const uint32_t bm0 = sizeof(struct spa_meta_cursor), px0 = sizeof(struct spa_meta_bitmap);
	struct spa_meta_header hd = header(0);
	struct spa_meta_region r;
	struct spa_meta_videotransform vt;
	uint32_t n;
#define SAVE(name) save("meta", name, o.bytes, o.n)
#define BEGIN(format, w, h, count) o.n = 0; put_format(&o, format, w, h, LINEAR); put(&o, count, 1)

	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Header, sizeof(hd), &hd, sizeof(hd));
	SAVE("valid-header");
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Header, 8, &hd, 8);
	SAVE("invalid-header-short");
	r = region(10, 20, 640, 480);
	BEGIN(NV12, 1920, 1080, 1); put_meta(&o, SPA_META_VideoCrop, sizeof(r), &r, sizeof(r));
	SAVE("valid-crop");
	r = region(1900, 0, 21, 1080);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_VideoCrop, sizeof(r), &r, sizeof(r));
	SAVE("invalid-crop-outside");
	r = region(-1, 0, 10, 10);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_VideoCrop, sizeof(r), &r, sizeof(r));
	SAVE("invalid-crop-negative");
	r = region(0, 0, 10, 10);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_VideoCrop, 12, &r, 12);
	SAVE("invalid-crop-short");
	vt.transform = SPA_META_TRANSFORMATION_Flipped90;
	BEGIN(BGRx, 64, 32, 1); put_meta(&o, SPA_META_VideoTransform, sizeof(vt), &vt, sizeof(vt));
	SAVE("valid-transform-flipped90");
	vt.transform = SPA_META_TRANSFORMATION_Flipped270 + 1;
	BEGIN(BGRx, 64, 32, 1); put_meta(&o, SPA_META_VideoTransform, sizeof(vt), &vt, sizeof(vt));
	SAVE("invalid-transform-8");
	struct spa_meta_region dmg[4] = { region(0, 0, 16, 16), region(1900, 1000, 100, 100),
					  region(0, 0, 0, 0), region(5, 5, 5, 5) };
	BEGIN(BGRx, 1920, 1080, 1);
	put_meta(&o, SPA_META_VideoDamage, sizeof(dmg), dmg, sizeof(dmg));
	SAVE("valid-damage-clipped-ended");
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_VideoDamage, 24, dmg, 24);
	SAVE("valid-damage-partial-region");
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_VideoDamage, sizeof(dmg) / 2, &dmg[2],
					     sizeof(dmg) / 2);
	SAVE("invalid-damage-none-valid");
	r = region(INT32_MAX, INT32_MAX, UINT32_MAX, UINT32_MAX);
	BEGIN(BGRx, 16384, 16384, 1); put_meta(&o, SPA_META_VideoDamage, sizeof(r), &r, sizeof(r));
	SAVE("invalid-damage-far-outside");
	/* Cursors: position only, hidden, a 64x64 bitmap, and bitmaps the meta cannot hold. */
	n = cursor_meta(m, 1, 0, 0, 0, 0, 0, 0);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Cursor, n, m, n);
	SAVE("valid-cursor-position");
	n = cursor_meta(m, 0, 0, 0, 0, 0, 0, 0);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Cursor, n, m, n);
	SAVE("valid-cursor-hidden");
	n = cursor_meta(m, 1, bm0, SPA_VIDEO_FORMAT_RGBA, 64, 64, 256, px0);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Cursor, n, m, n);
	SAVE("valid-cursor-bitmap-64");
	n = cursor_meta(m, 1, bm0 + 8, SPA_VIDEO_FORMAT_BGRA, 7, 5, 32, px0 + 4);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Cursor, n + 100, m, n);
	SAVE("valid-cursor-bitmap-padded");
	n = cursor_meta(m, 1, bm0, SPA_VIDEO_FORMAT_RGBA, 64, 64, 256, px0);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Cursor, n - 1, m, n - 1);
	SAVE("invalid-cursor-bitmap-past-meta");
	n = cursor_meta(m, 1, bm0, SPA_VIDEO_FORMAT_RGBA, 16, 16, 64, px0);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Cursor, bm0 + 8, m, bm0 + 8);
	SAVE("invalid-cursor-bitmap-header-past-meta");
	n = cursor_meta(m, 1, 4096, SPA_VIDEO_FORMAT_RGBA, 1, 1, 4, px0);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Cursor, bm0, m, bm0);
	SAVE("invalid-cursor-bitmap-offset-past-meta");
	n = cursor_meta(m, 1, bm0, SPA_VIDEO_FORMAT_RGBA, 16, 16, 60, px0);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Cursor, n, m, n);
	SAVE("invalid-cursor-stride-short");
	n = cursor_meta(m, 1, bm0, SPA_VIDEO_FORMAT_BGRx, 16, 16, 64, px0);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Cursor, n, m, n);
	SAVE("invalid-cursor-no-alpha");
	n = cursor_meta(m, 1, bm0, SPA_VIDEO_FORMAT_RGBA, 385, 1, 385 * 4, px0);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Cursor, n, m, n);
	SAVE("invalid-cursor-too-wide");
	n = cursor_meta(m, 1, bm0, SPA_VIDEO_FORMAT_RGBA, 16, 16, 64, UINT32_MAX - 8);
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Cursor, bm0 + px0, m, bm0 + px0);
	SAVE("invalid-cursor-pixels-offset-huge");
	/* Declared far larger than written: a 384x384 bitmap in zeros after its header. */
	n = cursor_meta(m, 1, bm0, SPA_VIDEO_FORMAT_RGBA, 384, 384, 384 * 4, px0);
	BEGIN(BGRx, 1920, 1080, 1);
	put_meta(&o, SPA_META_Cursor, bm0 + px0 + 384 * 384 * 4, m, bm0 + px0);
	SAVE("valid-cursor-bitmap-384");
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Cursor, 8, m, 8);
	SAVE("edge-cursor-short");
	struct spa_meta_cursor far = { .id = 1, .position = { INT32_MAX, INT32_MIN },
				       .hotspot = { INT32_MIN, INT32_MAX } };
	BEGIN(BGRx, 1920, 1080, 1); put_meta(&o, SPA_META_Cursor, sizeof(far), &far, sizeof(far));
	SAVE("valid-cursor-position-extremes");
	/* Everything at once, and types nobody asked for. */
	n = cursor_meta(m, 1, bm0, SPA_VIDEO_FORMAT_BGRA, 8, 8, 32, px0);
	r = region(0, 0, 32, 32);
	vt.transform = SPA_META_TRANSFORMATION_180;
	BEGIN(RGBx, 128, 64, 5);
	put_meta(&o, SPA_META_Header, sizeof(hd), &hd, sizeof(hd));
	put_meta(&o, SPA_META_VideoCrop, sizeof(r), &r, sizeof(r));
	put_meta(&o, SPA_META_VideoDamage, sizeof(dmg), dmg, sizeof(dmg));
	put_meta(&o, SPA_META_VideoTransform, sizeof(vt), &vt, sizeof(vt));
	put_meta(&o, SPA_META_Cursor, n, m, n);
	SAVE("valid-all");
	BEGIN(BGRx, 64, 64, 2);
	put_meta(&o, SPA_META_Bitmap, 64, m, 64);
	put_meta(&o, 200, 16, m, 16);
	SAVE("edge-unknown-types");
#undef SAVE
#undef BEGIN
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s TESTS-FUZZ-DIR\n", argv[0]);
		return 2;
	}
	root = argv[1];
	write_props();
	write_format();
	write_buffer();
	write_meta();
	return 0;
}
