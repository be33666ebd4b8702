/* The bundle cache of the API server (see applets/api_ctrcache.h).  A
 * chained hash on the id's first two hex digits; everything on the
 * server's loop thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "applets/api_ctr.h"
#include "applets/api_ctrcache.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"


#define BUCKETS 256

struct fkey {
	dev_t dev;
	ino_t ino;
	off_t size;
	long long sec, nsec;
};

struct ent {
	struct ent *next;
	char id[BUNDLE_ID_LEN + 1];
	struct fkey ck, sk;
	struct bundle_config bc;
	struct bundle_state st;   /* as the file says */
	struct buf text;          /* the reader's serialized document */
	unsigned gen;
};

struct api_ctrcache {
	struct ent *b[BUCKETS];
	unsigned gen;
};

static struct api_ctrcache *cache(struct api_sup *s)
{
	struct api_ctrcache **pp = api_sup_ctrcache(s);

	if (!*pp)
		*pp = xcalloc(1, sizeof(**pp));
	return *pp;
}

static unsigned bucket(const char *id)
{
	return (unsigned)strtoul((char[3]){ id[0], id[0] ? id[1] : 0, 0 }, NULL, 16) % BUCKETS;
}

static int key_of(const char *id, const char *file, struct fkey *k, struct err *e)
{
	_cleanup_buf_ struct buf p = BUF_INIT;
	struct stat st;
	int rc;

	if ((rc = bundle_path(id, file, &p, e)) < 0)
		return rc;
	if (stat(buf_str(&p), &st) < 0)
		return err_sys(e, "%s", buf_str(&p));
	memset(k, 0, sizeof(*k));
	*k = (struct fkey){ st.st_dev, st.st_ino, st.st_size, (long long)FS_MTIME(st).tv_sec,
			    (long long)FS_MTIME(st).tv_nsec };
	return 0;
}

static bool same(const struct fkey *a, const struct fkey *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->sec == b->sec &&
	       a->nsec == b->nsec;
}

static void ent_free(struct ent *x)
{
	bundle_config_free(&x->bc);
	buf_free(&x->text);
	free(x);
}

int api_ctrcache_get(struct api_sup *s, const char *id, struct api_ctrcache_view *v,
		     struct err *e)
{
	struct api_ctrcache *c = cache(s);
	struct ent **pp = &c->b[bucket(id)], *x;
	struct fkey ck, sk;
	int rc;

	for (x = *pp; x && strcmp(x->id, id); x = x->next)
		;
	if (x)   /* seen by this listing even if unreadable now: the sweep keeps it */
		x->gen = c->gen;
	if ((rc = key_of(id, "config.json", &ck, e)) < 0 || (rc = key_of(id, "state.json", &sk, e)) < 0) {
		if (x) {   /* gone: unlink and free */
			for (; *pp != x; pp = &(*pp)->next)
				;
			*pp = x->next;
			ent_free(x);
		}
		return rc;
	}
	if (!x) {
		x = xcalloc(1, sizeof(*x));
		memcpy(x->id, id, strnlen(id, BUNDLE_ID_LEN));
		if ((rc = bundle_config_load(id, &x->bc, e)) < 0 ||
		    (rc = bundle_state_load(id, &x->st, e)) < 0) {
			bundle_config_free(&x->bc);
			free(x);
			return rc;
		}
		x->ck = ck;
		x->sk = sk;
		x->next = *pp;
		*pp = x;
	}
	if (!same(&x->ck, &ck)) {
		struct bundle_config bc;
		if ((rc = bundle_config_load(id, &bc, e)) < 0)
			return rc;
		bundle_config_free(&x->bc);
		x->bc = bc;
		x->ck = ck;
		buf_reset(&x->text);
	}
	if (!same(&x->sk, &sk)) {
		struct bundle_state st;
		if ((rc = bundle_state_load(id, &st, e)) < 0)
			return rc;
		x->st = st;
		x->sk = sk;
		buf_reset(&x->text);
	}
	x->gen = c->gen;
	v->bc = &x->bc;
	v->st = x->st;
	v->text = &x->text;
	v->state_changed = api_ctr_liveness(&v->st);
	return 0;
}

void api_ctrcache_begin(struct api_sup *s)
{
	cache(s)->gen++;
}

void api_ctrcache_end(struct api_sup *s)
{
	struct api_ctrcache *c = cache(s);

	for (unsigned i = 0; i < BUCKETS; i++)
		for (struct ent **pp = &c->b[i]; *pp;) {
			struct ent *x = *pp;
			if (x->gen == c->gen) {
				pp = &x->next;
				continue;
			}
			*pp = x->next;
			ent_free(x);
		}
}

void api_ctrcache_free(struct api_sup *s)
{
	struct api_ctrcache **pp = api_sup_ctrcache(s);

	if (!*pp)
		return;
	for (unsigned i = 0; i < BUCKETS; i++)
		while ((*pp)->b[i]) {
			struct ent *x = (*pp)->b[i];
			(*pp)->b[i] = x->next;
			ent_free(x);
		}
	free(*pp);
	*pp = NULL;
}
