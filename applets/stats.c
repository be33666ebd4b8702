/* `container stats [--no-stream] [-a] [CONTAINER...]`: a live table of
 * the containers' resource use, like `docker stats`, from the API
 * server's GET /containers/{id}/stats (applets/api_stats.c: the guest's
 * own numbers).
 *
 * Each round asks every container for one sample (one-shot=true) and the
 * CPU % is computed here from two consecutive rounds, the way the docker
 * CLI does from precpu_stats: (delta busy / delta total) * CPUs * 100.
 * So a --no-stream table costs two rounds STATS_GAP_MS apart, not one
 * second per container.  Streaming redraws every second; without operands
 * the container list is read again each round (running ones, or all with
 * -a). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/cliapi.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "lib/timex.h"

#define STATS_GAP_MS 500
#define STATS_EVERY_MS 1000
#define STATS_CTRS_MAX 1024

struct stats_cli {
	int no_stream, all;
};

static const struct opt stats_optv[] = {
	OPT_FLAG(0, "no-stream", struct stats_cli, no_stream,
		 "Print one table and exit (default: redraw every second)"),
	OPT_FLAG('a', "all", struct stats_cli, all, "Show all containers (default: running ones)"),
	OPT_END,
};

struct sample {
	bool ok;
	double busy, total, ncpus;
	double mem, limit, rx, tx, rd, wr, pids;
};

struct row {
	char id[65];
	char *name;
	struct sample prev, cur;
};

/* GET path as JSON (the server's message on a refusal). */
static int get_json(struct cliapi *api, const char *path, json_t **out, struct err *e)
{
	int rc = cliapi_call(api, "GET", path, NULL, out, e);

	if (rc == 0 && !*out)
		rc = err_set(e, -EBADMSG, "%s: an empty answer", path);
	return rc;
}

static void add_row(struct row **v, size_t *n, const char *id, const char *name)
{
	if (*n >= STATS_CTRS_MAX || !id || strlen(id) > 64)
		return;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	memset(&(*v)[*n], 0, sizeof(**v));
	snprintf((*v)[*n].id, sizeof((*v)[*n].id), "%s", id);
	(*v)[*n].name = xstrdup(name ? (name[0] == '/' ? name + 1 : name) : "");
	(*n)++;
}

/* The containers named (resolved through inspect), or the list. */
static int list_rows(struct cliapi *api, char **names, int n_names, bool all, struct row **v,
		     size_t *n, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	json_t *j, *x;
	size_t i;

	if (n_names) {
		for (int k = 0; k < n_names; k++) {
			buf_reset(&path);
			buf_puts(&path, "/containers/");
			cliapi_escape(&path, names[k]);
			buf_puts(&path, "/json");
			if (get_json(api, buf_str(&path), &j, e) < 0)
				return err_wrap(e, "%s", names[k]);
			add_row(v, n, jsonx_str(j, "Id"), jsonx_str(j, "Name"));
			json_decref(j);
		}
		return 0;
	}
	if (get_json(api, all ? "/containers/json?all=1" : "/containers/json", &j, e) < 0)
		return e->code;
	json_array_foreach(j, i, x) {
		json_t *names_j = json_object_get(x, "Names");
		add_row(v, n, jsonx_str(x, "Id"), json_string_value(json_array_get(names_j, 0)));
	}
	json_decref(j);
	return 0;
}

static double num(json_t *o, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return json_number_value(json_object_get(o, path));
}

static void sample(struct cliapi *api, struct row *r)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	struct err e = ERR_INIT;
	json_t *j, *x;
	const char *k;
	size_t i;

	r->prev = r->cur;
	memset(&r->cur, 0, sizeof(r->cur));
	buf_printf(&path, "/containers/%s/stats?stream=false&one-shot=true", r->id);
	if (get_json(api, buf_str(&path), &j, &e) < 0)
		return;
	r->cur.ok = true;
	r->cur.busy = num(j, "cpu_stats.cpu_usage.total_usage");
	r->cur.total = num(j, "cpu_stats.system_cpu_usage");
	r->cur.ncpus = num(j, "cpu_stats.online_cpus");
	r->cur.mem = num(j, "memory_stats.usage");
	r->cur.limit = num(j, "memory_stats.limit");
	r->cur.pids = num(j, "pids_stats.current");
	json_object_foreach(json_object_get(j, "networks"), k, x) {
		r->cur.rx += num(x, "rx_bytes");
		r->cur.tx += num(x, "tx_bytes");
	}
	json_array_foreach(json_object_get(json_object_get(j, "blkio_stats"),
					   "io_service_bytes_recursive"), i, x) {
		const char *op = jsonx_str(x, "op");
		if (op && !strcasecmp(op, "read"))
			r->cur.rd += num(x, "value");
		else if (op && !strcasecmp(op, "write"))
			r->cur.wr += num(x, "value");
	}
	json_decref(j);
}

/* Docker's units: binary with 4 significant digits for memory
 * ("1.5MiB"), decimal with 3 for I/O ("1.23kB"). */
static void size_str(char *out, size_t n, double v, bool binary)
{
	static const char *const bin[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	static const char *const dec[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	double base = binary ? 1024 : 1000;
	int u = 0;

	while (v >= base && u < 5) {
		v /= base;
		u++;
	}
	snprintf(out, n, binary ? "%.4g%s" : "%.3g%s", v, binary ? bin[u] : dec[u]);
}

static void print_table(const struct row *v, size_t n)
{
	printf("%-15s %-20s %-8s %-22s %-8s %-18s %-18s %s\n", "CONTAINER ID", "NAME", "CPU %",
	       "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS");
	for (size_t i = 0; i < n; i++) {
		const struct sample *c = &v[i].cur, *p = &v[i].prev;
		char mu[16], ml[16], rx[16], tx[16], rd[16], wr[16], cpu[16] = "--", memp[16] = "--";
		char mem[40], net[40], blk[40];

		if (c->ok && p->ok && c->total > p->total && c->busy >= p->busy)
			snprintf(cpu, sizeof(cpu), "%.2f%%",
				 (c->busy - p->busy) / (c->total - p->total) * (c->ncpus ? c->ncpus : 1) * 100);
		else if (c->ok)
			snprintf(cpu, sizeof(cpu), "0.00%%");
		if (c->ok && c->limit > 0)
			snprintf(memp, sizeof(memp), "%.2f%%", c->mem / c->limit * 100);
		size_str(mu, sizeof(mu), c->mem, true);
		size_str(ml, sizeof(ml), c->limit, true);
		size_str(rx, sizeof(rx), c->rx, false);
		size_str(tx, sizeof(tx), c->tx, false);
		size_str(rd, sizeof(rd), c->rd, false);
		size_str(wr, sizeof(wr), c->wr, false);
		snprintf(mem, sizeof(mem), "%s / %s", mu, ml);
		snprintf(net, sizeof(net), "%s / %s", rx, tx);
		snprintf(blk, sizeof(blk), "%s / %s", rd, wr);
		printf("%-15.12s %-20s %-8s %-22s %-8s %-18s %-18s %.0f\n", v[i].id, v[i].name, cpu,
		       c->ok ? mem : "-- / --", memp, c->ok ? net : "-- / --", c->ok ? blk : "-- / --",
		       c->pids);
	}
	fflush(stdout);
}

static void free_rows(struct row *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* Carry the previous samples over to a fresh list (streaming, no operands). */
static void carry(struct row *old, size_t n_old, struct row *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n_old; k++)
			if (!strcmp(v[i].id, old[k].id))
				v[i].cur = old[k].cur;
}

static int stats_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct stats_cli *a = o;
	struct cliapi api;
	struct err e = ERR_INIT;
	struct row *v = NULL;
	size_t n = 0;
	bool tty = isatty(STDOUT_FILENO);
	int rc = EXIT_OK;

	(void)c;
	if (cliapi_connect(&api, &e) < 0 || list_rows(&api, argv, argc, a->all, &v, &n, &e) < 0) {
		fprintf(stderr, "container stats: %s\n", e.msg);
		free_rows(v, n);
		cliapi_free(&api);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++)
		sample(&api, &v[i]);
	for (;;) {
		timex_sleep_ms(a->no_stream ? STATS_GAP_MS : STATS_EVERY_MS);
		if (!argc && !a->no_stream) {
			struct row *fresh = NULL;
			size_t nf = 0;
			if (list_rows(&api, NULL, 0, a->all, &fresh, &nf, &e) < 0) {
				fprintf(stderr, "container stats: %s\n", e.msg);
				free_rows(fresh, nf);
				rc = EXIT_FAIL;
				break;
			}
			carry(v, n, fresh, nf);
			free_rows(v, n);
			v = fresh;
			n = nf;
		}
		for (size_t i = 0; i < n; i++)
			sample(&api, &v[i]);
		if (tty && !a->no_stream)
			fputs("\033[2J\033[H", stdout);
		print_table(v, n);
		if (a->no_stream)
			break;
	}
	free_rows(v, n);
	cliapi_free(&api);
	return rc;
}

const struct cmd cmd_stats = {
	.name = "stats",
	.summary = "Show containers' resource use (CPU, memory, network, disk, processes)",
	.usage = "[OPTIONS] [CONTAINER...]",
	.help = "Numbers are the guest's own (each container is a VM): CPU % of the VM's CPUs,\n"
		"memory in use of the container's memory, bytes through its interfaces and\n"
		"its disks, and its processes.  Needs the API server (container system start).",
	.opts = stats_optv,
	.opts_size = sizeof(struct stats_cli),
	.min_args = 0,
	.max_args = -1,
	.run = stats_cmd,
};
