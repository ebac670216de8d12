/* SPDX-License-Identifier: MIT */
/*
 * castrelay-sink --dmabuf's kernel side and checks, without PipeWire (sink-dmabuf.h): mapping a
 * memfd as castrelay-testsrc --memfd-dmabuf hands it out (DMA_BUF_IOCTL_SYNC answers ENOTTY,
 * which is tolerated), recognising other fds of the same file, and the plane layouts taken
 * from a producer's blocks: castrelayd's one block per plane, a single planar block, and
 * layouts that reach outside their chunk, block or mapping, which must be refused, never read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmabuf.h"
#include "frame.h"
#include "sink-dmabuf.h"
#include "test.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static int make_memfd(size_t size)
{
	int fd = memfd_create("test-sink-dmabuf", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The blocks castrelayd's DMA-BUF output sends: one per plane, one fd, offsets in the chunks. */
static uint32_t output_blocks(const struct cr_plane_layout *l, struct cr_sink_dmabuf_block *b)
{
	for (uint32_t i = 0; i < l->n_planes; i++) {
		uint64_t end = i + 1 < l->n_planes ? l->offset[i + 1] : l->size;
		b[i] = (struct cr_sink_dmabuf_block){
			.mapoffset = 0,
			.maxsize = (uint32_t)l->size,
			.offset = l->offset[i],
			.size = (uint32_t)(end - l->offset[i]),
			.stride = (int32_t)l->stride[i],
		};
	}
	return l->n_planes;
}

static void test_output_layouts(void)
{
	static const char *const names[] = { "BGRx", "RGBA", "NV12", "I420" };
	static const uint32_t sizes[][2] = { { 320, 240 }, { 41, 31 }, { 1, 1 }, { 642, 3 } };

	cr_test_log("castrelayd's per-plane blocks give its layout back");
	for (size_t i = 0; i < N_ELEMENTS(names); i++) {
		const struct cr_format_info *fmt = cr_format_info_from_name(names[i]);
		for (size_t j = 0; j < N_ELEMENTS(sizes); j++) {
			uint32_t w = sizes[j][0], h = sizes[j][1];
			struct cr_plane_layout want, got;
			struct cr_sink_dmabuf_block blocks[4];
			char why[256] = "";
			cr_format_plane_layout(fmt, w, h, &want);
			uint32_t n = output_blocks(&want, blocks);
			if (!CHECK_MSG(cr_sink_dmabuf_layout(fmt, w, h, blocks, n, want.size, &got,
							     why, sizeof(why)),
				       "%s %ux%u: %s", names[i], w, h, why))
				continue;
			CHECK_EQ_UINT(got.n_planes, want.n_planes);
			CHECK_EQ_MEM(got.offset, want.offset, sizeof(want.offset));
			CHECK_EQ_MEM(got.stride, want.stride, sizeof(want.stride));
			/* A mapping one byte short of the last pixel read must be refused. */
			uint64_t extent = cr_frame_extent(fmt, w, h, &want);
			CHECK(!cr_sink_dmabuf_layout(fmt, w, h, blocks, n, extent - 1, &got, why,
						     sizeof(why)));
		}
	}
}

static void test_single_block(void)
{
	const struct cr_format_info *nv12 = cr_format_info_from_name("NV12");
	const struct cr_format_info *i420 = cr_format_info_from_name("I420");
	struct cr_plane_layout want, got;
	char why[256] = "";

	cr_test_log("a single planar block is laid out as GStreamer does, after its chunk offset");
	CHECK(cr_frame_layout(nv12, 320, 240, 384, &want));
	struct cr_sink_dmabuf_block b = {
		.mapoffset = 0, .maxsize = 4096 + (uint32_t)want.size, .offset = 4096,
		.size = (uint32_t)want.size, .stride = 384,
	};
	if (CHECK_MSG(cr_sink_dmabuf_layout(nv12, 320, 240, &b, 1, b.maxsize, &got, why,
					    sizeof(why)), "%s", why)) {
		CHECK_EQ_UINT(got.offset[0], 4096);
		CHECK_EQ_UINT(got.offset[1], 4096 + want.offset[1]);
		CHECK_EQ_UINT(got.stride[1], want.stride[1]);
	}

	cr_test_log("a single planar block whose chroma offsets would pass 2^32 is refused");
	struct cr_sink_dmabuf_block huge = {
		.mapoffset = 0, .maxsize = UINT32_MAX, .offset = 0, .size = UINT32_MAX,
		.stride = INT32_MAX,
	};
	CHECK(!cr_sink_dmabuf_layout(nv12, 64, 1, &huge, 1, UINT64_MAX, &got, why, sizeof(why)));
	cr_test_log("  %s", why);

	cr_test_log("two blocks for the three planes of I420 are refused");
	struct cr_sink_dmabuf_block two[2] = { b, b };
	CHECK(!cr_sink_dmabuf_layout(i420, 320, 240, two, 2, b.maxsize, &got, why, sizeof(why)));
	cr_test_log("  %s", why);
}

static void test_invalid(void)
{
	const struct cr_format_info *bgrx = cr_format_info_from_name("BGRx");
	const struct cr_sink_dmabuf_block good = {
		.mapoffset = 0, .maxsize = 4096, .offset = 0, .size = 4096, .stride = 256,
	};
	static const struct {
		const char *what;
		struct cr_sink_dmabuf_block b;
		uint64_t map_size;
	} cases[] = {
		{ "stride shorter than a row", { 0, 4096, 0, 4096, 252 }, 4096 },
		{ "stride 0", { 0, 4096, 0, 4096, 0 }, 4096 },
		{ "negative stride", { 0, 4096, 0, 4096, -256 }, 4096 },
		{ "empty chunk", { 0, 4096, 0, 0, 256 }, 4096 },
		{ "chunk one byte short", { 0, 4096, 0, 4095, 256 }, 4096 },
		{ "chunk past its block", { 0, 4096, 4, 4096, 256 }, 8192 },
		{ "block past the mapping", { 4096, 4096, 0, 4096, 256 }, 4096 },
		{ "offset near 2^32", { 0, UINT32_MAX, UINT32_MAX - 8, 4096, 256 }, 4096 },
		{ "plane offset past 2^32", { UINT32_MAX - 8, 8192, 16, 8192, 256 }, UINT64_MAX },
		{ "stride near 2^31", { 0, UINT32_MAX, 0, UINT32_MAX, INT32_MAX }, UINT64_MAX },
	};
	struct cr_plane_layout got;
	char why[256];

	cr_test_log("a valid 64x16 BGRx block is taken");
	CHECK(cr_sink_dmabuf_layout(bgrx, 64, 16, &good, 1, 4096, &got, why, sizeof(why)));
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		why[0] = '\0';
		CHECK_MSG(!cr_sink_dmabuf_layout(bgrx, 64, 16, &cases[i].b, 1, cases[i].map_size,
						 &got, why, sizeof(why)),
			  "%s was taken", cases[i].what);
		CHECK_MSG(why[0] != '\0', "%s: no reason given", cases[i].what);
		cr_test_log("  %s: %s", cases[i].what, why);
	}
}

static void test_memfd_mapping(void)
{
	const struct cr_format_info *bgrx = cr_format_info_from_name("BGRx");
	const uint32_t w = 64, h = 16, stride = 320, offset = 1024;
	size_t size = offset + (size_t)stride * h;
	int fd = make_memfd(size), other = make_memfd(4096);

	cr_test_log("a memfd handed out as a DMA-BUF is mapped and read");
	if (!CHECK(fd >= 0 && other >= 0))
		goto out;
	uint8_t *px = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!CHECK(px != MAP_FAILED))
		goto out;
	/* BGRx pixel (5, 7) = R 10, G 20, B 30 */
	uint8_t *p = px + offset + 7 * stride + 5 * 4;
	p[0] = 30;
	p[1] = 20;
	p[2] = 10;
	munmap(px, size);

	struct cr_sink_dmabuf *map = cr_sink_dmabuf_create(fd, 0);
	if (!CHECK(map != NULL))
		goto out;
	CHECK_EQ_UINT(map->size, size);
	CHECK(cr_sink_dmabuf_holds(map, fd));
	int copy = dup(fd);
	CHECK(cr_sink_dmabuf_holds(map, copy));
	close(copy);
	CHECK(!cr_sink_dmabuf_holds(map, other));

	struct cr_sink_dmabuf_block b = {
		.mapoffset = 0, .maxsize = (uint32_t)size, .offset = offset,
		.size = stride * h, .stride = (int32_t)stride,
	};
	struct cr_frame frame = { .fmt = bgrx, .width = w, .height = h };
	char why[256] = "";
	if (CHECK_MSG(cr_sink_dmabuf_layout(bgrx, w, h, &b, 1, map->size, &frame.planes, why,
					    sizeof(why)), "%s", why)) {
		frame.data = map->data;
		/* a memfd has no DMA_BUF_IOCTL_SYNC: ENOTTY is tolerated, and remembered */
		CHECK(cr_sink_dmabuf_begin_read(map));
		CHECK(map->no_sync);
		uint8_t rgb[3];
		cr_frame_rgb(&frame, 5, 7, rgb);
		CHECK_EQ_UINT(rgb[0], 10);
		CHECK_EQ_UINT(rgb[1], 20);
		CHECK_EQ_UINT(rgb[2], 30);
		cr_sink_dmabuf_end_read(map);
	}
	cr_sink_dmabuf_destroy(map);
	cr_sink_dmabuf_destroy(NULL);

	cr_test_log("an fd of 0 bytes is not mapped");
	int empty = make_memfd(0);
	CHECK(empty >= 0 && cr_sink_dmabuf_create(empty, 0) == NULL);
	if (empty >= 0)
		close(empty);
out:
	if (fd >= 0)
		close(fd);
	if (other >= 0)
		close(other);
}

int main(void)
{
	test_output_layouts();
	test_single_block();
	test_invalid();
	test_memfd_mapping();
	return cr_test_result();
}
