/* The API server's cache of containers' bundles (issue #6, `docker ps`
 * speed): config.json and state.json parsed once and kept, re-read only
 * when the file changed (its inode, size or mtime: every write is a
 * rename of a new file, lib/fs.h), plus one text slot per container for a
 * reader's derived document (applets/api_ctrjson.c keeps the serialized
 * list summary there), emptied whenever either file changes.  A state that
 * says running whose runtime is gone reads as exited, checked on every get
 * (api_ctr_liveness).  Owned by the supervisor (api_sup_ctrcache); entries
 * of bundles that are gone are dropped by the sweep of a listing (one
 * unreadable now is kept). */
#ifndef APPLETS_API_CTRCACHE_H
#define APPLETS_API_CTRCACHE_H

#include "applets/bundle.h"
#include "lib/buf.h"

struct api_sup;
struct err;

struct api_ctrcache_view {
	const struct bundle_config *bc;  /* borrowed: valid until the next get of this id */
	struct bundle_state st;          /* a copy, liveness applied */
	struct buf *text;                /* the reader's document, empty when none */
	bool state_changed;              /* the runtime's liveness changed what the file says */
};

/* The cached bundle of id (full).  -ENOENT when it is gone. */
int api_ctrcache_get(struct api_sup *s, const char *id, struct api_ctrcache_view *v,
		     struct err *e);
/* A listing of the bundle directory: begin, get every bundle, end drops
 * the entries not asked for (their bundles are gone). */
void api_ctrcache_begin(struct api_sup *s);
void api_ctrcache_end(struct api_sup *s);
void api_ctrcache_free(struct api_sup *s);

#endif
