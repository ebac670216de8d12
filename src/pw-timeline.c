/* SPDX-License-Identifier: MIT */
#include "pw-timeline.h"

#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/syncobj.h"

#define TOPIC "pw-timeline"

static struct spa_meta_sync_timeline *find_meta(struct spa_buffer *buf)
{
	return spa_buffer_find_meta_data(buf, SPA_META_SyncTimeline,
					 sizeof(struct spa_meta_sync_timeline));
}

bool cr_pw_timeline_present(struct spa_buffer *buf)
{
	return find_meta(buf) != NULL && buf->n_datas >= 3;
}

bool cr_pw_timeline_import(struct cr_pw_timeline *t, int drm_fd, struct spa_buffer *buf)
{
	*t = (struct cr_pw_timeline){ .drm_fd = drm_fd };
	if (!cr_pw_timeline_present(buf))
		return false;
	struct spa_data *a = &buf->datas[buf->n_datas - 2], *r = &buf->datas[buf->n_datas - 1];
	if (a->type != SPA_DATA_SyncObj || r->type != SPA_DATA_SyncObj) {
		cr_log_warn(TOPIC, "SyncTimeline meta without SyncObj datas (types %u, %u): "
				   "ignoring explicit sync for this buffer", a->type, r->type);
		return false;
	}
	if (!cr_syncobj_import(drm_fd, (int)a->fd, &t->acquire))
		goto fail;
	if (!cr_syncobj_import(drm_fd, (int)r->fd, &t->release))
		goto fail;
	t->meta = find_meta(buf);
	return true;
fail:
	cr_syncobj_destroy(drm_fd, t->acquire);
	*t = (struct cr_pw_timeline){ .drm_fd = drm_fd };
	return false;
}

bool cr_pw_timeline_create(struct cr_pw_timeline *t, int drm_fd, struct spa_buffer *buf,
			   uint32_t n_planes)
{
	*t = (struct cr_pw_timeline){ .drm_fd = drm_fd, .producer = true };
	if (!find_meta(buf) || buf->n_datas < n_planes + 2)
		return false;
	uint32_t *handles[2] = { &t->acquire, &t->release };
	for (uint32_t i = 0; i < 2; i++) {
		struct spa_data *d = &buf->datas[n_planes + i];
		if (!cr_syncobj_create(drm_fd, handles[i]))
			goto fail;
		int fd = cr_syncobj_export(drm_fd, *handles[i]);
		if (fd < 0)
			goto fail;
		d->type = SPA_DATA_SyncObj;
		d->flags = SPA_DATA_FLAG_READWRITE;
		d->fd = fd;
		d->mapoffset = 0;
		d->maxsize = 0;
		d->data = NULL;
	}
	t->meta = find_meta(buf);
	t->meta->flags = 0;
	t->meta->acquire_point = 0;
	t->meta->release_point = 0;
	return true;
fail:
	cr_pw_timeline_finish(t, buf);
	return false;
}

void cr_pw_timeline_finish(struct cr_pw_timeline *t, struct spa_buffer *buf)
{
	if (t->producer && buf && buf->n_datas >= 2) {
		for (uint32_t i = buf->n_datas - 2; i < buf->n_datas; i++) {
			struct spa_data *d = &buf->datas[i];
			if (d->type == SPA_DATA_SyncObj && d->fd >= 0) {
				close((int)d->fd);
				d->fd = -1;
			}
		}
	}
	cr_syncobj_destroy(t->drm_fd, t->acquire);
	cr_syncobj_destroy(t->drm_fd, t->release);
	*t = (struct cr_pw_timeline){ .drm_fd = t->drm_fd };
}

int cr_pw_timeline_acquire_available(const struct cr_pw_timeline *t)
{
	return cr_syncobj_wait(t->drm_fd, t->acquire, t->meta->acquire_point, true, 0);
}

int cr_pw_timeline_acquire_eventfd(const struct cr_pw_timeline *t)
{
	return cr_syncobj_eventfd(t->drm_fd, t->acquire, t->meta->acquire_point, true);
}

int cr_pw_timeline_acquire_sync_file(const struct cr_pw_timeline *t)
{
	return cr_syncobj_export_sync_file(t->drm_fd, t->acquire, t->meta->acquire_point);
}

void cr_pw_timeline_promise(struct cr_pw_timeline *t)
{
	t->meta->flags &= ~(uint32_t)SPA_META_SYNC_TIMELINE_UNSCHEDULED_RELEASE;
}

bool cr_pw_timeline_release(struct cr_pw_timeline *t)
{
	t->meta->flags &= ~(uint32_t)SPA_META_SYNC_TIMELINE_UNSCHEDULED_RELEASE;
	return cr_syncobj_signal(t->drm_fd, t->release, t->meta->release_point);
}

void cr_pw_timeline_begin(struct cr_pw_timeline *t, uint64_t point)
{
	t->meta->acquire_point = point;
	t->meta->release_point = point;
	t->meta->flags |= SPA_META_SYNC_TIMELINE_UNSCHEDULED_RELEASE;
}

bool cr_pw_timeline_publish(struct cr_pw_timeline *t)
{
	return cr_syncobj_signal(t->drm_fd, t->acquire, t->meta->acquire_point);
}

int cr_pw_timeline_reusable(const struct cr_pw_timeline *t)
{
	const struct spa_meta_sync_timeline *m = t->meta;
	if (m->release_point == 0 || (m->flags & SPA_META_SYNC_TIMELINE_UNSCHEDULED_RELEASE))
		return 1;
	return cr_syncobj_wait(t->drm_fd, t->release, m->release_point, false, 0);
}

int cr_pw_timeline_release_eventfd(const struct cr_pw_timeline *t)
{
	return cr_syncobj_eventfd(t->drm_fd, t->release, t->meta->release_point, false);
}
