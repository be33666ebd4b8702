/* Image pull (see oci/pull.h): manifest resolution, parallel verified
 * blob downloads with resume, progress, and tagging at the end.  Called by
 * applets/image.c.
 *
 * A blob is fetched through a fetch_reader: it yields the blob's bytes
 * from offset 0, first the part an interrupted earlier pull left in the
 * ingest file, then the registry's body, appending what arrives to the
 * store writer (which hashes it) and re-requesting from the offset reached
 * when the connection is cut.  Layers are read through decompression and
 * a diff_id digest stage on top of it, so the one pass over the network
 * bytes also checks the uncompressed content against the config. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/mem.h"
#include "oci/decompress.h"
#include "oci/http.h"
#include "oci/images.h"
#include "oci/pull.h"
#include "oci/ref.h"
#include "oci/registry.h"
#include "oci/store.h"

#define MAX_DEPTH 4
#define FETCH_RETRIES 5
#define DEFAULT_CONCURRENCY 3

int pull_progress_parse(const char *s, enum pull_progress *out, struct err *e)
{
	static const struct { const char *name; enum pull_progress v; } t[] = {
		{ "auto", PULL_PROGRESS_AUTO }, { "plain", PULL_PROGRESS_PLAIN },
		{ "none", PULL_PROGRESS_NONE }, { "tty", PULL_PROGRESS_TTY },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (strcmp(s, t[i].name) == 0) {
			*out = t[i].v;
			return 0;
		}
	}
	return err_set(e, -EINVAL, "unknown progress mode '%.40s' (want auto, plain, tty or none)", s);
}

enum job_state { JOB_WAITING, JOB_FETCHING, JOB_DONE, JOB_PRESENT, JOB_FAILED };

struct job {
	struct digest digest;
	long long size;
	enum decompress_kind kind;
	int is_config;
	int has_diff_id;
	struct digest diff_id;
	int taken;                /* a worker has it (under ctx->mu) */
	/* progress, under ctx->mu */
	enum job_state state;
	long long done, resumed_from;
	long long t_start, t_end; /* ms */
	int reported;             /* plain mode: lines printed (bitmask) */
};

struct ctx {
	struct store *store;
	const char *root;
	struct creds_conn *conn;
	const char *repo;
	struct job *jobs;
	size_t n_jobs, next;
	pthread_mutex_t mu;
	int failed, running;
	struct err err; /* the first failure */
	unsigned long long fetched;
	enum pull_progress progress;
	FILE *out;
	int drawn; /* tty: lines drawn last time */
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- fetching one blob ---- */

struct fetch_reader {
	struct reader r;
	struct ctx *c;
	struct job *j;
	struct store_writer *w;
	struct http_response *resp;
	int prefix_fd;
	long long prefix_left;
	int retries;
	int rc; /* the last error this reader returned */
};

static int transient(int rc)
{
	return rc == -ECONNRESET || rc == -ETIMEDOUT || rc == -EPIPE || rc == -ECONNREFUSED ||
	       rc == -ECONNABORTED;
}

static int fetch_open(struct fetch_reader *f, struct err *e)
{
	long long off = store_writer_offset(f->w), total = -1;
	int rc;

	rc = registry_get_blob(f->c->conn->reg, f->c->repo, &f->j->digest, off, &f->resp, &total, e);
	if (rc < 0)
		return rc;
	if (total >= 0 && total != f->j->size) {
		http_response_free(f->resp);
		f->resp = NULL;
		return err_set(e, -EBADMSG, "registry %s: blob %s is %lld bytes, the manifest says %lld",
			       f->c->conn->host, f->j->digest.s, total, f->j->size);
	}
	return 0;
}

static ssize_t fetch_read1(struct fetch_reader *f, void *p, size_t n, struct err *e);

static ssize_t fetch_read(struct reader *rd, void *p, size_t n, struct err *e)
{
	struct fetch_reader *f = (struct fetch_reader *)rd;
	ssize_t got = fetch_read1(f, p, n, e);

	if (got < 0)
		f->rc = (int)got;
	return got;
}

static ssize_t fetch_read1(struct fetch_reader *f, void *p, size_t n, struct err *e)
{
	long long left;
	ssize_t got;
	int rc;

	if (f->prefix_left > 0) {
		if ((long long)n > f->prefix_left)
			n = (size_t)f->prefix_left;
		got = read(f->prefix_fd, p, n);
		if (got <= 0)
			return got < 0 ? err_sys(e, "read ingest of %s", f->j->digest.s)
				       : err_set(e, -EIO, "ingest of %s shrank", f->j->digest.s);
		f->prefix_left -= got;
		return got;
	}
	for (;;) {
		if (__atomic_load_n(&f->c->failed, __ATOMIC_RELAXED))
			return err_set(e, -ECANCELED, "cancelled");
		left = f->j->size - store_writer_offset(f->w);
		if (left == 0) {
			unsigned char probe;
			if (!f->resp)
				return 0;
			got = reader_read(&f->resp->body, &probe, 1, e);
			if (got > 0)
				return err_set(e, -EFBIG, "registry %s: blob %s is longer than the declared "
					       "%lld bytes", f->c->conn->host, f->j->digest.s, f->j->size);
			return got;
		}
		rc = f->resp ? 0 : fetch_open(f, e);
		if (rc == 0) {
			got = reader_read(&f->resp->body, p, (long long)n < left ? n : (size_t)left, e);
			if (got > 0) {
				if ((rc = store_writer_write(f->w, p, (size_t)got, e)) < 0)
					return rc;
				pthread_mutex_lock(&f->c->mu);
				f->j->done += got;
				f->c->fetched += (unsigned long long)got;
				pthread_mutex_unlock(&f->c->mu);
				return got;
			}
			rc = got == 0 ? err_set(e, -ECONNRESET, "registry %s: blob %s ended early",
						f->c->conn->host, f->j->digest.s)
				      : (int)got;
		}
		http_response_free(f->resp);
		f->resp = NULL;
		if (!transient(rc) || f->retries >= FETCH_RETRIES)
			return rc;
		/* the connection was cut: ask again from where we are */
		f->retries++;
		usleep(100000u << f->retries);
	}
}

/* 256 KiB at a time: the TLS layer hands out every record that has
 * already arrived, so a busy download is appended to the store in large
 * writes (on the pull benchmark 1.6k writes instead of 12.5k, one per
 * 16 KiB record). */
#define DRAIN_CHUNK (256 * 1024)

static int drain(struct reader *r, struct err *e)
{
	_cleanup_free_ unsigned char *tmp = xmalloc(DRAIN_CHUNK);
	ssize_t n;

	while ((n = reader_read(r, tmp, DRAIN_CHUNK, e)) > 0)
		;
	return (int)n;
}

static int fetch_blob(struct ctx *c, struct job *j, struct err *e)
{
	struct fetch_reader f = { { fetch_read, NULL }, c, j, NULL, NULL, -1, 0, 0, 0 };
	struct store_writer *w;
	int rc;

	rc = store_writer_open(c->store, &j->digest, j->size, 0, &w, e);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&c->mu);
	j->t_start = now_ms();
	j->state = w ? JOB_FETCHING : JOB_PRESENT;
	if (w)
		j->done = j->resumed_from = store_writer_offset(w);
	pthread_mutex_unlock(&c->mu);
	if (!w)
		return 0;
	f.w = w;
	if (j->has_diff_id && store_writer_offset(w) > 0) {
		/* The decompressor needs the whole stream: replay what we have. */
		_cleanup_buf_ struct buf p = BUF_INIT;
		buf_printf(&p, "%s/content/ingest/%s", c->root, digest_hex(&j->digest));
		f.prefix_fd = open(buf_str(&p), O_RDONLY | O_CLOEXEC);
		if (f.prefix_fd < 0) {
			if ((rc = store_writer_reset(w, e)) < 0)
				goto out;
		} else {
			f.prefix_left = store_writer_offset(w);
		}
	}
	if (j->has_diff_id) {
		struct digest_reader dr;
		struct reader *dec = decompress_open(&f.r, j->kind, 0);
		digest_reader_init(&dr, dec, -1, &j->diff_id, "uncompressed layer");
		rc = drain(&dr.r, e);
		dec->close(dec);
		if (rc < 0 && f.rc == 0) {
			/* The content is wrong, or the config is: the blob's own
			 * digest decides which one to report. */
			struct err e2 = ERR_INIT;
			int rc2 = drain(&f.r, &e2);
			if (rc2 == 0) {
				rc2 = store_writer_commit(w, &e2);
				w = NULL;
			}
			if (rc2 < 0) {
				*e = e2;
				rc = rc2;
			}
			goto out;
		}
		if (rc < 0)
			goto out;
	}
	if ((rc = drain(&f.r, e)) < 0)
		goto out;
	rc = store_writer_commit(w, e);
	w = NULL;
out:
	if (f.prefix_fd >= 0)
		close(f.prefix_fd);
	http_response_free(f.resp);
	store_writer_close(w);
	pthread_mutex_lock(&c->mu);
	j->t_end = now_ms();
	j->state = rc < 0 ? JOB_FAILED : JOB_DONE;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* The largest blob not yet taken, first in manifest order among equals
 * (so that the longest download starts first and the others fill in
 * around it, instead of a big last layer downloading alone at the end).
 * Called with c->mu held. */
static struct job *next_job(struct ctx *c)
{
	struct job *best = NULL;

	for (size_t i = c->next; i < c->n_jobs; i++)
		if (!c->jobs[i].taken && (!best || c->jobs[i].size > best->size))
			best = &c->jobs[i];
	return best;
}

static void *worker(void *arg)
{
	struct ctx *c = arg;

	for (;;) {
		struct err e = ERR_INIT;
		struct job *j;
		int rc;

		pthread_mutex_lock(&c->mu);
		j = c->failed ? NULL : next_job(c);
		if (!j) {
			c->running--;
			pthread_mutex_unlock(&c->mu);
			return NULL;
		}
		j->taken = 1;
		pthread_mutex_unlock(&c->mu);
		rc = fetch_blob(c, j, &e);
		if (rc < 0) {
			pthread_mutex_lock(&c->mu);
			/* the first real failure wins over the cancellations it causes */
			if (!c->failed) {
				c->err = e;
				__atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
			}
			pthread_mutex_unlock(&c->mu);
		}
	}
}

/* ---- progress ---- */

static void job_line(struct job *j, enum job_state st, struct buf *b, int bar)
{
	long long ms = (j->t_end ? j->t_end : now_ms()) - j->t_start;
	double speed = ms > 0 ? (double)(j->done - j->resumed_from) * 1000.0 / (double)ms : 0;

	buf_printf(b, "%.12s %-6s ", digest_hex(&j->digest), j->is_config ? "config" : "layer");
	switch (st) {
	case JOB_WAITING:
		buf_puts(b, "waiting");
		return;
	case JOB_PRESENT:
		buf_puts(b, "already present");
		return;
	case JOB_FAILED:
		buf_puts(b, "failed");
		return;
	case JOB_FETCHING:
	case JOB_DONE:
		break;
	}
	if (bar) {
		int fill = j->size ? (int)(j->done * 30 / j->size) : 30;
		buf_putc(b, '[');
		for (int i = 0; i < 30; i++)
			buf_putc(b, i < fill ? '=' : i == fill ? '>' : ' ');
		buf_puts(b, "] ");
	} else {
		buf_puts(b, st == JOB_DONE ? "done " : "downloading ");
	}
	if (st == JOB_DONE || bar) {
		human_size(b, (double)j->done, HUMAN_DECIMAL1);
		buf_puts(b, " / ");
	}
	human_size(b, (double)j->size, HUMAN_DECIMAL1);
	if (st == JOB_DONE || bar) {
		buf_puts(b, "  ");
		human_size(b, speed, HUMAN_DECIMAL1);
		buf_puts(b, "/s");
	}
	if (j->resumed_from) {
		buf_puts(b, " (resumed at ");
		human_size(b, (double)j->resumed_from, HUMAN_DECIMAL1);
		buf_putc(b, ')');
	}
}

/* Called with c->mu held. */
static void progress(struct ctx *c)
{
	_cleanup_buf_ struct buf b = BUF_INIT;

	if (c->progress == PULL_PROGRESS_NONE)
		return;
	if (c->progress == PULL_PROGRESS_TTY) {
		if (c->drawn)
			buf_printf(&b, "\033[%dA", c->drawn);
		for (size_t i = 0; i < c->n_jobs; i++) {
			buf_puts(&b, "\r\033[K");
			job_line(&c->jobs[i], c->jobs[i].state, &b, 1);
			buf_putc(&b, '\n');
		}
		c->drawn = (int)c->n_jobs;
	} else {
		for (size_t i = 0; i < c->n_jobs; i++) {
			struct job *j = &c->jobs[i];
			if (j->state == JOB_WAITING)
				continue;
			if (!(j->reported & 1)) {
				j->reported |= j->state == JOB_PRESENT ? 3 : 1;
				job_line(j, j->state == JOB_PRESENT ? JOB_PRESENT : JOB_FETCHING, &b, 0);
				buf_putc(&b, '\n');
			}
			if ((j->state == JOB_DONE || j->state == JOB_FAILED) && !(j->reported & 2)) {
				j->reported |= 2;
				job_line(j, j->state, &b, 0);
				buf_putc(&b, '\n');
			}
		}
	}
	fputs(buf_str(&b), c->out);
	fflush(c->out);
}

/* ---- the pull ---- */

struct doc {
	struct digest digest;
	struct buf body;
	char *media_type;
};

static void docs_free(struct doc *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf_free(&d[i].body);
		free(d[i].media_type);
	}
}

/* Fetch and parse a manifest or index by tag or digest. */
static int get_doc(struct creds_conn *cc, const char *repo, const char *ref, const char *want_mt,
		   long long want_size, struct doc *d, struct manifest **out, struct err *e)
{
	struct registry_manifest rm;
	int rc;

	if ((rc = registry_get_manifest(cc->reg, repo, ref, &rm, e)) < 0)
		return rc;
	if (want_size >= 0 && rm.size != want_size) {
		registry_manifest_free(&rm);
		return err_set(e, -EBADMSG, "registry %s: manifest %s in repository %s is %lld bytes, "
			       "its descriptor says %lld", cc->host, ref, repo, rm.size, want_size);
	}
	rc = manifest_parse(buf_str(&rm.body), rm.body.len,
			    rm.media_type ? rm.media_type : want_mt, out, e);
	if (rc < 0) {
		registry_manifest_free(&rm);
		return err_wrap(e, "registry %s: manifest %s in repository %s", cc->host, ref, repo);
	}
	d->digest = rm.digest;
	d->body = rm.body;
	d->media_type = xstrdup((*out)->media_type);
	free(rm.media_type);
	return 0;
}

static void add_job(struct ctx *c, const struct descriptor *d, int is_config)
{
	struct job *j;

	for (size_t i = 0; i < c->n_jobs; i++)
		if (strcmp(c->jobs[i].digest.s, d->digest.s) == 0)
			return; /* the same layer twice */
	c->jobs = xreallocarray(c->jobs, c->n_jobs + 1, sizeof(*c->jobs));
	j = &c->jobs[c->n_jobs++];
	memset(j, 0, sizeof(*j));
	j->digest = d->digest;
	j->size = d->size;
	j->is_config = is_config;
	j->kind = DECOMPRESS_NONE;
}

static int run_jobs(struct ctx *c, size_t first, int conc, struct err *e)
{
	pthread_t th[16];
	int n = 0;

	c->next = first;
	if (conc < 1)
		conc = 1;
	if (conc > (int)ARRAY_SIZE(th))
		conc = (int)ARRAY_SIZE(th);
	if ((size_t)conc > c->n_jobs - first)
		conc = (int)(c->n_jobs - first);
	c->running = conc;
	for (int i = 0; i < conc; i++) {
		if (pthread_create(&th[n], NULL, worker, c) != 0) {
			pthread_mutex_lock(&c->mu);
			c->running--;
			pthread_mutex_unlock(&c->mu);
			continue;
		}
		n++;
	}
	if (n == 0 && conc > 0)
		return err_set(e, -EAGAIN, "cannot start download threads");
	for (; c->progress != PULL_PROGRESS_NONE;) {
		int running;
		pthread_mutex_lock(&c->mu);
		running = c->running;
		progress(c);
		pthread_mutex_unlock(&c->mu);
		if (running == 0)
			break;
		usleep(c->progress == PULL_PROGRESS_TTY ? 100000 : 50000);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (c->failed) {
		*e = c->err;
		return e->code ? e->code : -EIO;
	}
	return 0;
}

/* Resolve reference to an image manifest, collecting every document. */
static int resolve(struct creds_conn *cc, const struct ref *r, const char *refstr,
		   const struct platform *want, struct doc *docs, size_t *n_docs,
		   struct manifest **out, struct err *e)
{
	struct manifest *m = NULL;
	const struct descriptor *d;
	int rc;

	if ((rc = get_doc(cc, r->path, refstr, NULL, -1, &docs[0], &m, e)) < 0)
		return rc;
	*n_docs = 1;
	while (m->kind == MANIFEST_INDEX) {
		struct manifest *child = NULL;
		if (*n_docs > MAX_DEPTH) {
			manifest_free(m);
			return err_set(e, -ELOOP, "registry %s: %s: indexes nested more than %d deep",
				       cc->host, refstr, MAX_DEPTH);
		}
		if ((rc = manifest_select(m, want, &d, e)) < 0) {
			manifest_free(m);
			return err_wrap(e, "registry %s: %s/%s:%s", cc->host, r->domain, r->path, refstr);
		}
		rc = get_doc(cc, r->path, d->digest.s, d->media_type, d->size, &docs[*n_docs], &child, e);
		manifest_free(m);
		if (rc < 0)
			return rc;
		(*n_docs)++;
		m = child;
	}
	*out = m;
	return 0;
}

/* Config and layers.  Verifying diff_ids needs the config first; without
 * that, everything is fetched at once and the config checked at the end. */
static int fetch_all(struct ctx *c, struct manifest *m, int verify, int conc, struct err *e)
{
	_cleanup_buf_ struct buf cfg = BUF_INIT;
	struct image_config *ic = NULL;
	int rc;

	add_job(c, &m->config, 1);
	if (!verify) {
		for (size_t i = 0; i < m->n_layers; i++)
			add_job(c, &m->layers[i], 0);
		if ((rc = run_jobs(c, 0, conc, e)) < 0)
			return rc;
	} else if ((rc = run_jobs(c, 0, 1, e)) < 0) {
		return rc;
	}
	if ((rc = store_read_blob(c->store, &m->config.digest, IMAGE_CONFIG_MAX_BYTES, &cfg, e)) < 0 ||
	    (rc = image_config_parse(buf_str(&cfg), cfg.len, &ic, e)) < 0 ||
	    (rc = manifest_check_config(m, ic, e)) < 0) {
		image_config_free(ic);
		return err_wrap(e, "registry %s: image config %s", c->conn->host, m->config.digest.s);
	}
	for (size_t i = 0; verify && i < m->n_layers; i++) {
		size_t before = c->n_jobs;
		enum decompress_kind k;
		add_job(c, &m->layers[i], 0);
		if (c->n_jobs == before)
			continue;
		if (decompress_kind_for_media_type(m->layers[i].media_type, &k, NULL) == 0 &&
		    i < ic->n_diff_ids) {
			c->jobs[before].kind = k;
			c->jobs[before].has_diff_id = 1;
			c->jobs[before].diff_id = ic->diff_ids[i];
		}
	}
	image_config_free(ic);
	return verify ? run_jobs(c, 1, conc, e) : 0;
}

static int tag_image(const char *root, const char *name, const struct doc *top, struct err *e)
{
	struct images *im;
	int rc;

	if ((rc = images_open(root, IMAGES_WRITE, &im, e)) < 0)
		return rc;
	rc = images_tag(im, name, top->media_type, &top->digest, (long long)top->body.len, 0, e);
	if (rc == 0)
		rc = images_save(im, e);
	images_close(im);
	return rc;
}

static int pull_run(struct ctx *c, const struct ref *r, const char *refstr,
		    const struct pull_opts *o, struct pull_result *res, struct err *e)
{
	struct doc docs[MAX_DEPTH + 1];
	struct manifest *m = NULL;
	struct platform host;
	size_t n_docs = 0;
	int rc, conc = o->max_concurrent > 0 ? o->max_concurrent : DEFAULT_CONCURRENCY;

	memset(docs, 0, sizeof(docs));
	platform_host(&host);
	if ((rc = resolve(c->conn, r, refstr, o->platform ? o->platform : &host, docs, &n_docs, &m,
			  e)) < 0)
		goto out;
	if ((rc = manifest_check_image(m, e)) < 0) {
		err_wrap(e, "registry %s: %s", c->conn->host, refstr);
		goto out;
	}
	res->manifest = docs[n_docs - 1].digest;
	if ((rc = store_lease(c->store, e)) < 0)
		goto out;
	rc = fetch_all(c, m, o->verify_diff_ids, conc, e);
	for (size_t i = 0; rc == 0 && i < n_docs; i++)
		rc = store_put(c->store, buf_str(&docs[i].body), docs[i].body.len, &docs[i].digest,
			       NULL, e);
	if (rc == 0) {
		_cleanup_buf_ struct buf name = BUF_INIT;
		ref_format(r, &name);
		snprintf(res->name, sizeof(res->name), "%s", buf_str(&name));
		res->digest = docs[0].digest;
		rc = tag_image(c->root, buf_str(&name), &docs[0], e);
	}
	store_unlease(c->store);
	res->fetched = c->fetched;
	res->blobs = c->n_jobs;
	for (size_t i = 0; i < c->n_jobs; i++)
		res->blobs_present += c->jobs[i].state == JOB_PRESENT;
out:
	manifest_free(m);
	docs_free(docs, n_docs);
	return rc;
}

/* After a pull that failed for a reason other than the network, remove
 * the blobs it left that no image needs, so the store is as it was.  A
 * network failure keeps them (and the partial ingest) for the next pull to
 * resume.  GC refuses (-EBUSY) while another pull holds a lease or a
 * writer, which is then the one that will reference or release them. */
static void forget(const char *root, struct store *s)
{
	struct store_gc_result res;
	struct images *im = NULL;
	struct digest *roots = NULL;
	size_t n = 0;

	if (images_open(root, 0, &im, NULL) == 0 && images_roots(im, &roots, &n, NULL) == 0)
		store_gc(s, roots, n, -1, &res, NULL);
	free(roots);
	images_close(im);
}

int pull_image(const char *root, const char *reference, const struct pull_opts *o,
	       struct pull_result *res, struct err *e)
{
	struct ctx c;
	struct ref r;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	if ((rc = ref_parse(reference, 0, &r, e)) < 0)
		return rc;
	c.root = root;
	c.repo = r.path;
	c.out = o->out ? o->out : stderr;
	c.progress = o->progress;
	if (c.progress == PULL_PROGRESS_AUTO)
		c.progress = isatty(fileno(c.out)) ? PULL_PROGRESS_TTY : PULL_PROGRESS_PLAIN;
	pthread_mutex_init(&c.mu, NULL);
	if ((rc = store_open(root, &c.store, e)) == 0 &&
	    (rc = creds_connect(r.domain, &o->conn, &c.conn, e)) == 0)
		rc = pull_run(&c, &r, r.has_digest ? r.digest.s : r.tag, o, res, e);
	if (rc < 0 && c.store && !transient(rc))
		forget(root, c.store);
	if (rc < 0) {
		_cleanup_buf_ struct buf name = BUF_INIT;
		ref_format_familiar(&r, &name);
		err_wrap(e, "pull %s", buf_str(&name));
	}
	creds_conn_free(c.conn);
	store_close(c.store);
	free(c.jobs);
	pthread_mutex_destroy(&c.mu);
	return rc;
}

/* ---- stored images ---- */

int pull_resolve_local(struct store *s, const struct digest *top, const char *media_type,
		       const struct platform *want, struct digest *out_digest,
		       struct manifest **out, struct err *e)
{
	struct digest cur = *top;
	const char *mt = media_type;
	struct manifest *m = NULL;
	struct platform host;
	int rc;

	platform_host(&host);
	for (int depth = 0;; depth++) {
		_cleanup_buf_ struct buf body = BUF_INIT;
		const struct descriptor *d = NULL;
		struct digest next;

		if (depth > MAX_DEPTH)
			return err_set(e, -ELOOP, "image %s: indexes nested too deep", top->s);
		if ((rc = store_read_blob(s, &cur, MANIFEST_MAX_BYTES, &body, e)) < 0 ||
		    (rc = manifest_parse(buf_str(&body), body.len, mt, &m, e)) < 0)
			return rc;
		if (m->kind == MANIFEST_IMAGE) {
			*out_digest = cur;
			*out = m;
			return 0;
		}
		if (manifest_select(m, want ? want : &host, &d, NULL) == 0 &&
		    store_has(s, &d->digest, NULL, NULL) != 1)
			d = NULL;
		for (size_t i = 0; !d && !want && i < m->n_manifests; i++)
			if (manifest_media_kind(m->manifests[i].media_type) != MANIFEST_UNKNOWN &&
			    store_has(s, &m->manifests[i].digest, NULL, NULL) == 1)
				d = &m->manifests[i];
		if (!d) {
			_cleanup_buf_ struct buf p = BUF_INIT;
			platform_format(want ? want : &host, &p);
			manifest_free(m);
			return err_set(e, -ENOENT, "image %s has no manifest %s%s in the store", top->s,
				       want ? "for " : "", want ? buf_str(&p) : "");
		}
		next = d->digest;
		mt = NULL;
		if (d->media_type)
			mt = manifest_media_kind(d->media_type) == MANIFEST_INDEX ? MT_OCI_INDEX
									   : MT_OCI_MANIFEST;
		manifest_free(m);
		m = NULL;
		cur = next;
	}
}
