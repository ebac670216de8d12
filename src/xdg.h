/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * castrelay's own directories, as the XDG base directory specification and systemd's
 * StateDirectory=/CacheDirectory= place them. Pure: environment and path strings only.
 */
#include <stdbool.h>
#include <stddef.h>

enum cr_xdg_kind {
	CR_XDG_STATE, /**< $STATE_DIRECTORY, else $XDG_STATE_HOME/castrelay, else ~/.local/state/castrelay */
	CR_XDG_CACHE, /**< $CACHE_DIRECTORY, else $XDG_CACHE_HOME/castrelay, else ~/.cache/castrelay */
};

/**
 * Writes castrelay's directory of @kind into @buf (@len bytes). Does not create it. Returns
 * false when neither the variables nor $HOME say where it is, or it does not fit.
 */
bool cr_xdg_dir(enum cr_xdg_kind kind, char *buf, size_t len);

/**
 * Creates @path and its missing parents with mode 0700 (an existing directory is fine).
 * Returns false and sets errno on failure.
 */
bool cr_xdg_mkdirs(const char *path);
