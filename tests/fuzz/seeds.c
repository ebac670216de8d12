/* SPDX-License-Identifier: MIT */
/* The seed corpus as regression tests, in every build: feeds each file of the directories
 * given to the target's LLVMFuzzerTestOneInput() and checks its verdict against the file's
 * name (fuzz.h). A seed that crashes or fails a target's check aborts the test; a directory
 * without seeds fails it. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static bool read_all(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		uint8_t *more = realloc(buf, cap *= 2);
		if (!more)
			free(buf);
		buf = more;
	}
	bool ok = buf && !ferror(f);
	fclose(f);
	if (!ok) {
		free(buf);
		return false;
	}
	*data = buf;
	*size = n;
	return true;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int skip_hidden(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Runs every seed in @dir; returns the number of failures, counting seeds into @n. */
static unsigned run_dir(const char *dir, unsigned *n)
{
	struct dirent **names;
	int count = scandir(dir, &names, skip_hidden, alphasort);
	if (count < 0) {
		fprintf(stderr, "cannot read the seed directory %s\n", dir);
		return 1;
	}
	unsigned failures = 0;
	for (int i = 0; i < count; i++) {
		const char *name = names[i]->d_name;
		char path[4096];
		uint8_t *data;
		size_t size;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		struct stat st;
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
			continue; /* e.g. libFuzzer's corpus/ beside its artifacts */
		if (!read_all(path, &data, &size)) {
			fprintf(stderr, "cannot read the seed %s\n", path);
			failures++;
			continue;
		}
		cr_fuzz_verdict = CR_FUZZ_NONE;
		LLVMFuzzerTestOneInput(data, size);
		free(data);
		const char *verdict = cr_fuzz_verdict == CR_FUZZ_ACCEPTED   ? "accepted"
				      : cr_fuzz_verdict == CR_FUZZ_REJECTED ? "rejected"
									    : "no verdict";
		bool ok = cr_fuzz_verdict != CR_FUZZ_NONE &&
			  !(starts_with(name, "valid-") && cr_fuzz_verdict != CR_FUZZ_ACCEPTED) &&
			  !(starts_with(name, "invalid-") && cr_fuzz_verdict != CR_FUZZ_REJECTED);
		printf("# %s: %s (%zu bytes)%s\n", name, verdict, size, ok ? "" : ": WRONG");
		if (!ok) {
			fprintf(stderr, "%s: %s, which its name contradicts\n", path, verdict);
			failures++;
		}
		(*n)++;
	}
	for (int i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return failures;
}

int main(int argc, char **argv)
{
	unsigned failures = 0, n = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s SEED-DIR...\n", argv[0]);
		return 99;
	}
	for (int i = 1; i < argc; i++)
		failures += run_dir(argv[i], &n);
	if (n == 0) {
		fprintf(stderr, "no seeds found\n");
		return 1;
	}
	printf("%u seeds, %u failed\n", n, failures);
	return failures ? 1 : 0;
}
