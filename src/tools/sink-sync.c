/* SPDX-License-Identifier: MIT */
#include "sink-sync.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "pw-timeline.h"
#include "syncobj.h"

#define SECOND_NS 1000000000ll

struct cr_sink_sync_buffer {
	struct cr_pw_timeline timeline;
	uint64_t point; /**< the release point of the frame read last */
	bool seen;
	uint64_t last_acquire; /**< the acquire point of the frame read last */
	bool held;
	uint64_t due_ns;
	const void *data;
	size_t size;
	uint64_t checksum;
};

struct cr_sink_sync {
	struct pw_loop *loop;
	int drm_fd;
	uint32_t hold_ms;
	struct spa_source *timer;
	struct cr_sink_sync_buffer *held[64];
	uint32_t n_held;
	uint32_t acquired, acquire_waits, acquire_timeouts, released, torn, early, repeated;
	uint32_t overwritten;
	uint32_t failures;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* FNV-1a over the frame, 8 bytes at a time: any rewrite changes it. */
static uint64_t checksum(const void *data, size_t size)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < size; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void release(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb)
{
	if (sb->data && checksum(sb->data, sb->size) != sb->checksum && sync->torn++ < 5)
		fprintf(stderr, "sink: the frame held with release point %llu changed before the "
			"point was signalled\n", (unsigned long long)sb->point);
	sb->held = false;
	sb->data = NULL;
	if (cr_syncobj_signal(sync->drm_fd, sb->timeline.release, sb->point))
		sync->released++;
	else
		sync->failures++;
}

static void arm(struct cr_sink_sync *sync)
{
	if (sync->n_held == 0) {
		pw_loop_update_timer(sync->loop, sync->timer, NULL, NULL, false);
		return;
	}
	uint64_t due = sync->held[0]->due_ns;
	struct timespec ts = { (time_t)(due / SECOND_NS), (long)(due % SECOND_NS) };
	pw_loop_update_timer(sync->loop, sync->timer, &ts, NULL, true);
}

static void unlist(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < sync->n_held; i++)
		if (sync->held[i] != sb)
			sync->held[n++] = sync->held[i];
	sync->n_held = n;
	arm(sync);
}

static void on_timer(void *data, uint64_t expirations)
{
	struct cr_sink_sync *sync = data;
	uint64_t now = now_ns();
	uint32_t n = 0;
	for (uint32_t i = 0; i < sync->n_held; i++) {
		if (sync->held[i]->due_ns <= now)
			release(sync, sync->held[i]);
		else
			sync->held[n++] = sync->held[i];
	}
	sync->n_held = n;
	arm(sync);
}

struct cr_sink_sync *cr_sink_sync_create(struct pw_loop *loop, uint32_t hold_ms)
{
	struct cr_sink_sync *sync = calloc(1, sizeof(*sync));
	if (!sync)
		return NULL;
	sync->loop = loop;
	sync->hold_ms = hold_ms;
	sync->drm_fd = cr_syncobj_device_open(NULL);
	if (sync->drm_fd < 0) {
		fprintf(stderr, "sink: --sync-timeline: no DRM render node with timeline "
			"syncobjs\n");
		free(sync);
		return NULL;
	}
	sync->timer = pw_loop_add_timer(loop, on_timer, sync);
	return sync;
}

void cr_sink_sync_flush(struct cr_sink_sync *sync)
{
	for (uint32_t i = 0; i < sync->n_held; i++)
		release(sync, sync->held[i]);
	sync->n_held = 0;
	arm(sync);
}

void cr_sink_sync_destroy(struct cr_sink_sync *sync)
{
	if (!sync)
		return;
	cr_sink_sync_flush(sync);
	pw_loop_destroy_source(sync->loop, sync->timer);
	close(sync->drm_fd);
	free(sync);
}

struct cr_sink_sync_buffer *cr_sink_sync_add(struct cr_sink_sync *sync, struct spa_buffer *buf)
{
	if (!cr_pw_timeline_present(buf))
		return NULL;
	struct cr_sink_sync_buffer *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return NULL;
	if (!cr_pw_timeline_import(&sb->timeline, sync->drm_fd, buf)) {
		sync->failures++;
		free(sb);
		return NULL;
	}
	return sb;
}

void cr_sink_sync_remove(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb)
{
	if (!sb)
		return;
	if (sb->held) {
		unlist(sync, sb);
		sb->data = NULL; /* the mapping may be gone already */
		release(sync, sb);
	}
	cr_pw_timeline_finish(&sb->timeline, NULL);
	free(sb);
}

bool cr_sink_sync_repeated(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb)
{
	const struct spa_meta_sync_timeline *m = sb->timeline.meta;
	if (!(sb->held && m->release_point == sb->point) &&
	    !(sb->seen && m->acquire_point == sb->last_acquire))
		return false;
	sync->repeated++;
	return true;
}

void cr_sink_sync_promise(struct cr_sink_sync_buffer *sb)
{
	cr_pw_timeline_promise(&sb->timeline);
}

bool cr_sink_sync_acquire(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb)
{
	const struct cr_pw_timeline *t = &sb->timeline;
	if (sb->held) {
		/* A new frame in a buffer whose release we still hold: the producer did not
		 * wait for the release point. */
		fprintf(stderr, "sink: a buffer held for release point %llu came back with points "
			"%llu/%llu\n", (unsigned long long)sb->point,
			(unsigned long long)t->meta->acquire_point,
			(unsigned long long)t->meta->release_point);
		unlist(sync, sb);
		sync->early++;
		release(sync, sb);
	}
	if (cr_syncobj_wait(sync->drm_fd, t->acquire, t->meta->acquire_point, false, 0) != 1) {
		sync->acquire_waits++;
		if (cr_syncobj_wait(sync->drm_fd, t->acquire, t->meta->acquire_point, false,
				    SECOND_NS) != 1) {
			if (sync->acquire_timeouts++ == 0)
				fprintf(stderr, "sink: acquire point %llu not signalled within 1 s\n",
					(unsigned long long)t->meta->acquire_point);
			return false;
		}
	}
	sync->acquired++;
	sb->seen = true;
	sb->last_acquire = t->meta->acquire_point;
	sb->point = t->meta->release_point;
	return true;
}

bool cr_sink_sync_intact(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb)
{
	if (sb->timeline.meta->acquire_point == sb->last_acquire)
		return true;
	sync->overwritten++;
	return false;
}

void cr_sink_sync_skip(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb)
{
	if (sb->held) {
		unlist(sync, sb);
		release(sync, sb);
	}
	sb->point = sb->timeline.meta->release_point;
	release(sync, sb);
}

void cr_sink_sync_done(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb,
		       const void *data, size_t size)
{
	sb->timeline.meta->flags &= ~(uint32_t)SPA_META_SYNC_TIMELINE_UNSCHEDULED_RELEASE;
	if (sync->hold_ms == 0 || sync->n_held == SPA_N_ELEMENTS(sync->held)) {
		release(sync, sb);
		return;
	}
	sb->held = true;
	sb->due_ns = now_ns() + (uint64_t)sync->hold_ms * 1000000u;
	sb->data = data;
	sb->size = size;
	sb->checksum = data ? checksum(data, size) : 0;
	sync->held[sync->n_held++] = sb;
	if (sync->n_held == 1)
		arm(sync);
}

bool cr_sink_sync_clean(const struct cr_sink_sync *sync)
{
	return sync->acquire_timeouts == 0 && sync->torn == 0 && sync->early == 0 &&
	       sync->failures == 0;
}

void cr_sink_sync_print(const struct cr_sink_sync *sync, FILE *out)
{
	fprintf(out, "sync: explicit acquired=%u acquire_waits=%u acquire_timeouts=%u "
		"released=%u torn=%u early=%u repeated=%u overwritten=%u failures=%u\n",
		sync->acquired, sync->acquire_waits, sync->acquire_timeouts, sync->released,
		sync->torn, sync->early, sync->repeated, sync->overwritten, sync->failures);
}
