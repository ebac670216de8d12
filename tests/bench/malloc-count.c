/* SPDX-License-Identifier: MIT */
/*
 * A counting malloc for tools/bench.sh, LD_PRELOADed into the relay under test (castrelayd or
 * gst-launch-1.0): every malloc, calloc, realloc and aligned allocation of every thread adds one
 * to a 64-bit counter kept in the first 8 bytes of $CR_MALLOC_COUNT_FILE, mapped shared, which
 * castrelay-sink --measure-count reads at both ends of its window (allocations per frame).
 * Without the variable it counts nothing. The allocations themselves are glibc's (__libc_*).
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t align, size_t size);

static _Atomic uint64_t *counter;

__attribute__((constructor)) static void count_init(void)
{
	const char *path = getenv("CR_MALLOC_COUNT_FILE");
	if (!path || !*path)
		return;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (ftruncate(fd, (off_t)sysconf(_SC_PAGESIZE)) == 0) {
		void *map = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map != MAP_FAILED)
			counter = map;
	}
	close(fd);
}

static inline void count(void)
{
	if (counter)
		atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

void *malloc(size_t size)
{
	count();
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	count();
	return __libc_calloc(n, size);
}

void *realloc(void *ptr, size_t size)
{
	count();
	return __libc_realloc(ptr, size);
}

void *memalign(size_t align, size_t size)
{
	count();
	return __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
	count();
	return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return 22; /* EINVAL */
	count();
	void *p = __libc_memalign(align, size);
	if (!p && size)
		return 12; /* ENOMEM */
	*out = p;
	return 0;
}
