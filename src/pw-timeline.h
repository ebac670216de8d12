/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Explicit synchronisation of one PipeWire buffer (SPA_META_SyncTimeline, PipeWire >= 1.2,
 * doc/dox/internals/dma-buf.dox): the meta with its acquire and release points, and the two
 * DRM timeline syncobjs carried as the buffer's last two datas (SPA_DATA_SyncObj). A consumer
 * imports them, waits for the acquire point and signals the release point; a producer creates
 * them, signals the acquire point and waits for the release point before rewriting. Kept per
 * buffer (pw_buffer.user_data), never per frame. No waits block: readiness is polled or
 * watched with an eventfd. Main-loop thread.
 *
 * UNSCHEDULED_RELEASE (PipeWire >= 1.5.81, the same bit under older headers): a producer sets
 * it on queueing; a consumer clears it when it promises to signal the release point. A buffer
 * that comes back with the flag still set was not promised, so the producer need not wait.
 */
#include <stdbool.h>
#include <stdint.h>

#include <spa/buffer/buffer.h>
#include <spa/buffer/meta.h>

#ifndef SPA_META_SYNC_TIMELINE_UNSCHEDULED_RELEASE
#define SPA_META_SYNC_TIMELINE_UNSCHEDULED_RELEASE (1 << 0)
#endif

struct cr_pw_timeline {
	struct spa_meta_sync_timeline *meta; /**< NULL: the buffer has no explicit sync */
	int drm_fd;                          /**< borrowed */
	uint32_t acquire, release;           /**< syncobj handles on drm_fd */
	bool producer;                       /**< we created the syncobjs and their fds */
};

/** True when @buf carries SyncTimeline meta (then its last two datas are the syncobjs). */
bool cr_pw_timeline_present(struct spa_buffer *buf);

/**
 * Consumer, in add_buffer: imports the acquire and release syncobjs of @buf (the fds stay
 * PipeWire's) on @drm_fd. Returns false (logged, @t zeroed) when @buf has no SyncTimeline meta
 * or the syncobjs cannot be imported.
 */
bool cr_pw_timeline_import(struct cr_pw_timeline *t, int drm_fd, struct spa_buffer *buf);

/**
 * Producer, in add_buffer: creates two timeline syncobjs on @drm_fd and puts their fds
 * (owned by @t until cr_pw_timeline_finish()) into datas[@n_planes] (acquire) and
 * datas[@n_planes + 1] (release). Returns false (logged, @t zeroed) on failure.
 */
bool cr_pw_timeline_create(struct cr_pw_timeline *t, int drm_fd, struct spa_buffer *buf,
			   uint32_t n_planes);

/** Destroys the handles; a producer also closes the fds in @buf (may be NULL for a
 * consumer). Zeroes @t; idempotent. */
void cr_pw_timeline_finish(struct cr_pw_timeline *t, struct spa_buffer *buf);

/**
 * Consumer: whether the acquire point has a fence (WAIT_AVAILABLE): 1 yes, 0 not yet, -1 on
 * error (logged).
 */
int cr_pw_timeline_acquire_available(const struct cr_pw_timeline *t);

/** Consumer: an eventfd readable once the acquire point has a fence, or -1 (logged). */
int cr_pw_timeline_acquire_eventfd(const struct cr_pw_timeline *t);

/** Consumer: the acquire point's fence as a new sync_file (the point must be available). */
int cr_pw_timeline_acquire_sync_file(const struct cr_pw_timeline *t);

/**
 * Consumer: promises to signal the release point (clears UNSCHEDULED_RELEASE). Call it as
 * soon as a buffer is dequeued: PipeWire 1.4 can hand a buffer back to its producer on a
 * later cycle of an async link while the consumer still has it, and only a cleared flag
 * makes the producer wait for the release point then.
 */
void cr_pw_timeline_promise(struct cr_pw_timeline *t);

/**
 * Consumer: promises and signals the release point (clears UNSCHEDULED_RELEASE, then signals
 * from the CPU): call once our reads of the buffer are done, also for frames never read.
 * Returns false when signalling failed (logged).
 */
bool cr_pw_timeline_release(struct cr_pw_timeline *t);

/**
 * Producer, before rewriting a buffer: sets its acquire and release points to @point
 * (strictly increasing per timeline) and UNSCHEDULED_RELEASE. A consumer that still gets the
 * buffer late (PipeWire 1.4's async links can recycle a buffer before its consumer dequeued
 * it) then waits for the new frame instead of reading one being written.
 */
void cr_pw_timeline_begin(struct cr_pw_timeline *t, uint64_t point);

/**
 * Producer, before queueing a buffer whose contents are complete: signals the acquire point
 * set by cr_pw_timeline_begin(). Returns false when signalling failed (logged).
 */
bool cr_pw_timeline_publish(struct cr_pw_timeline *t);

/**
 * Producer, after dequeueing: 1 when the buffer may be rewritten (never published, not
 * promised, or the release point signalled), 0 when the consumer still holds it, -1 on error.
 */
int cr_pw_timeline_reusable(const struct cr_pw_timeline *t);

/** Producer: an eventfd readable once the release point has signalled, or -1 (logged). */
int cr_pw_timeline_release_eventfd(const struct cr_pw_timeline *t);
