/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Implicit synchronisation through the kernel's DMA-BUF fences (linux/dma-buf.h, kernel >= 5.20
 * for DMA_BUF_IOCTL_EXPORT_SYNC_FILE / IMPORT_SYNC_FILE). Thread-safe; no state.
 */
#include <stdbool.h>
#include <stdint.h>

/** Fence kinds for cr_sync_file_export()/import(): whom to wait for / what we are. */
#define CR_SYNC_READ (1u << 0)  /**< export: wait for writers; import: we read */
#define CR_SYNC_WRITE (1u << 1) /**< export: wait for readers and writers; import: we write */

/**
 * Exports the fences of @dmabuf_fd (borrowed) as a new sync_file fd (owned by the caller).
 * With CR_SYNC_READ the sync_file signals when all pending writes are done (what a reader
 * must wait for). Returns the fd, or -errno: -ENOTTY when the fd is not a DMA-BUF or the
 * kernel lacks the ioctl (memfds, kernels < 5.20).
 */
int cr_sync_file_export(int dmabuf_fd, uint32_t flags);

/**
 * Adds @sync_fd (borrowed) to @dmabuf_fd's (borrowed) fences as a reader (CR_SYNC_READ) or a
 * writer (CR_SYNC_WRITE), so other users' implicit sync waits for it. Returns 0 or -errno.
 */
int cr_sync_file_import(int dmabuf_fd, int sync_fd, uint32_t flags);

/**
 * For tests only: true when CASTRELAY_TEST_SKIP_SYNC=1 is in the environment. Everything that
 * waits for a producer (implicit fences, explicit acquire points) then skips the wait, so
 * that tests can show they detect missing synchronisation.
 */
bool cr_sync_test_skip(void);

/** True when @sync_fd has signalled (a non-blocking poll). */
bool cr_sync_file_signalled(int sync_fd);

/**
 * Waits up to @timeout_ms for @sync_fd to signal (the fallback when the GPU cannot wait on it:
 * bounded, so a stuck producer costs a frame, not the loop). Returns true when it signalled.
 */
bool cr_sync_file_wait(int sync_fd, int timeout_ms);
