/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Explicit sync for castrelay-sink --sync-timeline: the consumer side of SPA_META_SyncTimeline
 * as a test needs it. Before a frame is read its acquire point must signal (waited for up to
 * a second: blocking is fine in a test consumer, and a point that never comes is counted);
 * afterwards the release point is promised (UNSCHEDULED_RELEASE cleared) and signalled, at
 * once or, with a hold, some milliseconds after the buffer went back to the producer. Then a
 * checksum of the frame taken when it was read is compared with the buffer's contents just
 * before the release: a producer that rewrites a buffer before its release point shows up as
 * a torn frame. Main-loop thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pipewire/pipewire.h>

struct cr_sink_sync;
struct cr_sink_sync_buffer;

/**
 * Opens the first DRM render node with timeline syncobjs; @hold_ms delays each release.
 * Returns NULL (with a message on stderr) when there is none.
 */
struct cr_sink_sync *cr_sink_sync_create(struct pw_loop *loop, uint32_t hold_ms);

/** Signals every held release point and frees. NULL is a no-op. */
void cr_sink_sync_destroy(struct cr_sink_sync *sync);

/**
 * In add_buffer: imports the syncobjs of @buf; NULL when @buf has no SyncTimeline meta (or on
 * failure, reported on stderr and counted).
 */
struct cr_sink_sync_buffer *cr_sink_sync_add(struct cr_sink_sync *sync, struct spa_buffer *buf);

/** In remove_buffer: a held release is signalled now. NULL is a no-op. */
void cr_sink_sync_remove(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb);

/**
 * True when @sb came again with the frame read last time (the same acquire point): a repeat
 * from an async link (PipeWire 1.4's tee hands the last buffer over again when the producer
 * had nothing new), not a new frame; it must not be queued again. Counted.
 */
bool cr_sink_sync_repeated(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb);

/** Right after dequeueing (before anything else): promises the release point. */
void cr_sink_sync_promise(struct cr_sink_sync_buffer *sb);

/** Before reading: waits up to a second for the acquire point; false when it did not come. */
bool cr_sink_sync_acquire(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb);

/**
 * After reading: false (counted) when the producer republished the buffer while we read it
 * (its acquire point moved on): PipeWire 1.4's async links can recycle a buffer to its
 * producer before the consumer dequeued it, when the consumer could not promise its release
 * yet. What was read is then not the frame and must be dropped (cr_sink_sync_done() with
 * @data NULL still releases the point we took).
 */
bool cr_sink_sync_intact(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb);

/** For a buffer skipped before cr_sink_sync_acquire(): releases its current point now. */
void cr_sink_sync_skip(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb);

/**
 * After reading (@data/@size: the frame, which must stay mapped) or dropping (@data NULL) the
 * frame taken by cr_sink_sync_acquire(), before the buffer is queued back: signals its release
 * point, now or after the hold.
 */
void cr_sink_sync_done(struct cr_sink_sync *sync, struct cr_sink_sync_buffer *sb,
		       const void *data, size_t size);

/** Signals every held release point now (checking the frames first), e.g. before a report. */
void cr_sink_sync_flush(struct cr_sink_sync *sync);

/**
 * True when no acquire point timed out, no held frame changed or came back early and no
 * syncobj call failed.
 */
bool cr_sink_sync_clean(const struct cr_sink_sync *sync);

/**
 * Prints "sync: explicit acquired=… acquire_waits=… acquire_timeouts=… released=… torn=…
 * early=… repeated=… overwritten=… failures=…" (early: buffers that came back with a new
 * frame while their release point was held; repeated: the same frame handed over again;
 * overwritten: frames republished while being read).
 */
void cr_sink_sync_print(const struct cr_sink_sync *sync, FILE *out);
