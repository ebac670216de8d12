/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Guest-side helpers of the vm test bed (tests/vm/run-in-vm.sh): the implicit-sync uapi on any
 * DMA-BUF (DMA_BUF_IOCTL_EXPORT/IMPORT_SYNC_FILE), sync_file state and time. The DMA-BUFs
 * themselves (udmabuf, the system dma-heap, vgem) and vgem's test fences come from
 * src/tools/dmabuf-alloc.h, shared with castrelay-testsrc and included here. Kernel uapi and
 * libdrm only. Every function logs the failing call with errno to stderr and returns
 * -1/false/NULL; errno is preserved for the caller. Any thread, no shared state.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmabuf-alloc.h"

/**
 * DMA_BUF_IOCTL_EXPORT_SYNC_FILE on @dmabuf (borrowed) with @flags DMA_BUF_SYNC_READ and/or
 * DMA_BUF_SYNC_WRITE (what the caller intends to do: READ waits for writers only). Returns a
 * new sync_file fd or -1 (ENOTTY: not a DMA-BUF or a kernel before 5.20).
 */
int cr_vm_dmabuf_export_sync_file(int dmabuf, uint32_t flags);

/**
 * DMA_BUF_IOCTL_IMPORT_SYNC_FILE: adds the fence of @sync_file (borrowed) to @dmabuf
 * (borrowed) as a writer (DMA_BUF_SYNC_WRITE) or a reader (DMA_BUF_SYNC_READ).
 */
bool cr_vm_dmabuf_import_sync_file(int dmabuf, int sync_file, uint32_t flags);

/**
 * State of the fence behind @sync_file (borrowed; a sync_file polls readable once signalled):
 * 1 signalled, 0 pending, -1 not pollable. Waits at most @timeout_ms (0: just looks).
 */
int cr_vm_sync_file_wait(int sync_file, int timeout_ms);

/**
 * The status the kernel reports for @sync_file (SYNC_IOC_FILE_INFO): 1 signalled, 0 pending,
 * negative errno when its fence signalled with an error (vgem's 10 s expiry gives -ETIMEDOUT),
 * or INT32_MIN when the ioctl failed.
 */
int32_t cr_vm_sync_file_status(int sync_file);

/** Monotonic clock in nanoseconds. */
uint64_t cr_vm_now_ns(void);

/** Sleeps @ns nanoseconds (resumed after signals). */
void cr_vm_sleep_ns(uint64_t ns);
