/* SPDX-License-Identifier: MIT */
/* cr_log's two forms: lines prefixed with their syslog priority when stderr is the journal
 * (JOURNAL_STREAM names stderr's device and inode), plain lines otherwise. stderr is redirected
 * to a temporary file, whose own dev:ino stands in for journald's stream. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "test.h"

static char path[] = "/tmp/castrelay-test-log.XXXXXX";
static int saved_stderr = -1;

/* Logs one line per level with JOURNAL_STREAM set to @journal_stream (NULL: unset; a leading
 * "own" stands for stderr's DEV:INODE) and returns what reached stderr. */
static const char *log_all(const char *journal_stream, char *buf, size_t len)
{
	int fd = open(path, O_RDWR | O_TRUNC);
	buf[0] = '\0';
	if (!CHECK(fd >= 0))
		return buf;
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	close(fd);
	char value[128];
	struct stat st;
	fstat(STDERR_FILENO, &st);
	if (journal_stream && strncmp(journal_stream, "own", 3) == 0)
		snprintf(value, sizeof(value), "%llu:%llu%s", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino, journal_stream + 3);
	else
		snprintf(value, sizeof(value), "%s", journal_stream ? journal_stream : "");
	if (journal_stream)
		setenv("JOURNAL_STREAM", value, 1);
	else
		unsetenv("JOURNAL_STREAM");
	cr_log_init(CR_LOG_DEBUG);
	cr_log_error("test", "e %d", 1);
	cr_log_warn("test", "w");
	cr_log_info("test", "i");
	cr_log_debug("test", "d");
	cr_log_set_level(CR_LOG_WARN);
	cr_log_info("test", "dropped");
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	FILE *f = fopen(path, "r");
	if (!CHECK(f != NULL))
		return buf;
	buf[fread(buf, 1, len - 1, f)] = '\0';
	fclose(f);
	return buf;
}

int main(void)
{
	char buf[1024];
	int fd = mkstemp(path);
	saved_stderr = dup(STDERR_FILENO);
	if (fd < 0 || saved_stderr < 0)
		return CR_TEST_BROKEN;
	close(fd);

	cr_test_log("stderr is the journal: priorities <3> <4> <6> <7>");
	CHECK_EQ_STR(log_all("own", buf, sizeof(buf)),
		     "<3>castrelay.test: error: e 1\n"
		     "<4>castrelay.test: warning: w\n"
		     "<6>castrelay.test: info: i\n"
		     "<7>castrelay.test: debug: d\n");

	/* Unset; another stream (stderr redirected after systemd set it); not DEV:INODE. */
	static const char *const plain[] = { NULL, "1:2", "", "garbage", "own:7", "own x" };
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		cr_test_log("JOURNAL_STREAM=%s: plain lines", plain[i] ? plain[i] : "(unset)");
		CHECK_EQ_STR(log_all(plain[i], buf, sizeof(buf)),
			     "castrelay.test: error: e 1\n"
			     "castrelay.test: warning: w\n"
			     "castrelay.test: info: i\n"
			     "castrelay.test: debug: d\n");
	}
	unlink(path);
	return cr_test_result();
}
