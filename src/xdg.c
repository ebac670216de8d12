/* SPDX-License-Identifier: MIT */
#include "xdg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *nonempty(const char *s)
{
	return s && s[0] ? s : NULL;
}

bool cr_xdg_dir(enum cr_xdg_kind kind, char *buf, size_t len)
{
	/* systemd sets these for StateDirectory=/CacheDirectory= (a ':'-separated list when
	 * several are configured: the unit names one). */
	const char *unit = nonempty(getenv(kind == CR_XDG_STATE ? "STATE_DIRECTORY"
								 : "CACHE_DIRECTORY"));
	const char *base = nonempty(getenv(kind == CR_XDG_STATE ? "XDG_STATE_HOME"
								 : "XDG_CACHE_HOME"));
	const char *home = nonempty(getenv("HOME"));
	int n;
	if (unit)
		n = snprintf(buf, len, "%.*s", (int)strcspn(unit, ":"), unit);
	else if (base && base[0] == '/')
		n = snprintf(buf, len, "%s/castrelay", base);
	else if (home)
		n = snprintf(buf, len, "%s/%s/castrelay", home,
			     kind == CR_XDG_STATE ? ".local/state" : ".cache");
	else
		return false;
	return n > 0 && (size_t)n < len;
}

bool cr_xdg_mkdirs(const char *path)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return false;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return false;
		*p = '/';
	}
	return mkdir(tmp, 0700) == 0 || errno == EEXIST;
}
