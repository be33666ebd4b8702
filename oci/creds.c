/* Docker-compatible registry credentials (see oci/creds.h): config.json
 * "auths", credential helpers spawned with an argv, and the registry
 * connection that uses them.  Called by applets/registry.c, oci/pull.c
 * and oci/push.c.
 *
 * Helpers get their input on a socketpair rather than a pipe so that a
 * helper exiting without reading cannot kill us with SIGPIPE (MSG_NOSIGNAL,
 * SO_NOSIGPIPE on macOS). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/base64.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/mem.h"
#include "lib/paths.h"
#include "oci/auth.h"
#include "oci/creds.h"
#include "oci/http.h"
#include "oci/registry.h"

extern char **environ;

#define CONFIG_MAX (4u << 20)
#define HELPER_OUT_MAX (64u << 10)
#define HELPER_TIMEOUT_MS 30000
#define HUB_KEY "https://index.docker.io/v1/"

static void wipe_free(char *s)
{
	if (!s)
		return;
	/* volatile so that the compiler keeps the wipe of a secret */
	for (volatile char *p = s; *p; p++)
		*p = 0;
	free(s);
}

void creds_free(struct creds *c)
{
	wipe_free(c->username);
	wipe_free(c->password);
	wipe_free(c->identity_token);
	memset(c, 0, sizeof(*c));
}

static int is_hub(const char *host)
{
	return strcmp(host, "docker.io") == 0 || strcmp(host, "index.docker.io") == 0 ||
	       strcmp(host, "registry-1.docker.io") == 0 || strcmp(host, HUB_KEY) == 0;
}

const char *creds_server_key(const char *host)
{
	return is_hub(host) ? HUB_KEY : host;
}

/* Does a config.json key name host?  Keys may be "host", "https://host",
 * "http://host/v1/" (what older docker versions wrote). */
static int key_matches(const char *key, const char *host)
{
	size_t n;

	if (strcmp(key, creds_server_key(host)) == 0)
		return 1;
	if (strncmp(key, "https://", 8) == 0)
		key += 8;
	else if (strncmp(key, "http://", 7) == 0)
		key += 7;
	n = strcspn(key, "/");
	if (is_hub(host)) {
		return (n == 9 && strncmp(key, "docker.io", 9) == 0) ||
		       (n == 15 && strncmp(key, "index.docker.io", 15) == 0) ||
		       (n == 20 && strncmp(key, "registry-1.docker.io", 20) == 0);
	}
	return strlen(host) == n && strncmp(key, host, n) == 0;
}

static int config_path(const char *dir, struct buf *out, struct err *e)
{
	int rc;

	if (dir)
		return buf_puts(out, dir), buf_puts(out, "/config.json"), 0;
	if ((rc = paths_docker_config_dir(out, e)) < 0)
		return rc;
	buf_puts(out, "/config.json");
	return 0;
}

/* config.json as an object; an absent file is an empty one. */
static json_t *config_load(const char *path, struct err *e)
{
	struct err e2 = ERR_INIT;
	json_t *j;

	if (access(path, F_OK) < 0 && errno == ENOENT)
		return json_object();
	j = jsonx_load_file(path, CONFIG_MAX, &e2);
	if (!j) {
		err_set(e, e2.code, "%s", e2.msg);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		err_set(e, -EINVAL, "%s: not a JSON object", path);
		return NULL;
	}
	return j;
}

static int config_save(const char *path, json_t *j, struct err *e)
{
	_cleanup_buf_ struct buf dir = BUF_INIT;
	const char *slash = strrchr(path, '/');
	int rc;

	if (slash && slash != path) {
		buf_append(&dir, path, (size_t)(slash - path));
		if ((rc = fs_mkdir_p(buf_str(&dir), 0700, e)) < 0)
			return rc;
	}
	return jsonx_write_file(path, j, 0600, e);
}

/* The key of obj matching host, or NULL. */
static const char *find_key(json_t *obj, const char *host)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return NULL;
	if (json_object_get(obj, creds_server_key(host)))
		return creds_server_key(host);
	json_object_foreach(obj, k, v) {
		if (key_matches(k, host))
			return k;
	}
	return NULL;
}

/* The helper name for host: credHelpers first, then credsStore. */
static const char *helper_for(json_t *cfg, const char *host)
{
	json_t *ch = json_object_get(cfg, "credHelpers");
	const char *k = find_key(ch, host);
	const char *s;

	if (k && (s = json_string_value(json_object_get(ch, k))) && *s)
		return s;
	s = jsonx_str(cfg, "credsStore");
	return s && *s ? s : NULL;
}

static int helper_name_ok(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n < 64 && strspn(name, "abcdefghijklmnopqrstuvwxyz"
					       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static int send_all(int fd, const char *p, size_t n)
{
#ifdef MSG_NOSIGNAL
	const int flags = MSG_NOSIGNAL;
#else
	const int flags = 0;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
	while (n > 0) {
		ssize_t w = send(fd, p, n, flags);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run docker-credential-<name> <verb> with input on stdin; its stdout
 * (bounded) in out, its exit status in *status. */
static int helper_run(const char *name, const char *verb, const char *input, struct buf *out,
		      int *status, struct err *e)
{
	_cleanup_buf_ struct buf prog = BUF_INIT;
	posix_spawn_file_actions_t fa;
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, rc = 0, ws;
	char *argv[3];
	long long deadline;
	pid_t pid;

	if (!helper_name_ok(name))
		return err_set(e, -EINVAL, "invalid credential helper name '%.64s'", name);
	buf_printf(&prog, "docker-credential-%s", name);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, in) < 0 || pipe(outp) < 0) {
		rc = err_sys(e, "credential helper %s", buf_str(&prog));
		goto out;
	}
	fcntl(in[0], F_SETFD, FD_CLOEXEC);
	fcntl(outp[0], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[1], 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	argv[0] = (char *)buf_str(&prog);
	argv[1] = (char *)verb;
	argv[2] = NULL;
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[1]);
	close(outp[1]);
	in[1] = outp[1] = -1;
	if (rc != 0) {
		rc = err_set(e, -rc, "credential helper %s: %s", buf_str(&prog), strerror(rc));
		goto out;
	}
	send_all(in[0], input, strlen(input)); /* a helper may not read: fine */
	shutdown(in[0], SHUT_WR);
	deadline = now_ms() + HELPER_TIMEOUT_MS;
	for (;;) {
		struct pollfd pf = { outp[0], POLLIN, 0 };
		char tmp[4096];
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pf, 1, (int)left) == 0) {
			kill(pid, SIGKILL);
			rc = err_set(e, -ETIMEDOUT, "credential helper %s %s: no answer in %d s",
				     buf_str(&prog), verb, HELPER_TIMEOUT_MS / 1000);
			break;
		}
		n = read(outp[0], tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf_append(out, tmp, (size_t)n) < 0) {
			kill(pid, SIGKILL);
			rc = err_set(e, -E2BIG, "credential helper %s %s: output over %u bytes",
				     buf_str(&prog), verb, HELPER_OUT_MAX);
			break;
		}
	}
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	return rc;
}

static int helper_get(const char *name, const char *key, struct creds *out, struct err *e)
{
	_cleanup_buf_ struct buf o = BUF_INIT;
	_cleanup_json_ json_t *j = NULL;
	const char *u, *s;
	int rc, st;

	buf_init(&o, HELPER_OUT_MAX);
	if ((rc = helper_run(name, "get", key, &o, &st, e)) < 0)
		return rc;
	if (st != 0) {
		/* docker-credential-helpers: "credentials not found in native keychain" */
		if (strstr(buf_str(&o), "not found"))
			return 0;
		return err_set(e, -EIO, "credential helper docker-credential-%s get %s failed (exit %d)",
			       name, key, st);
	}
	j = jsonx_parse(o.data, o.len, HELPER_OUT_MAX, "credential helper output", NULL);
	if (!j || !(u = jsonx_str(j, "Username")) || !(s = jsonx_str(j, "Secret")))
		return err_set(e, -EINVAL, "credential helper docker-credential-%s: malformed answer "
			       "for %s", name, key);
	if (strcmp(u, "<token>") == 0)
		out->identity_token = xstrdup(s);
	else {
		out->username = xstrdup(u);
		out->password = xstrdup(s);
	}
	return 1;
}

static int helper_simple(const char *name, const char *verb, const char *input, struct err *e)
{
	_cleanup_buf_ struct buf o = BUF_INIT;
	int rc, st;

	buf_init(&o, HELPER_OUT_MAX);
	if ((rc = helper_run(name, verb, input, &o, &st, e)) < 0)
		return rc;
	if (st != 0) {
		if (strcmp(verb, "erase") == 0 && strstr(buf_str(&o), "not found"))
			return -ENOENT;
		return err_set(e, -EIO, "credential helper docker-credential-%s %s failed (exit %d)",
			       name, verb, st);
	}
	return 0;
}

/* Decode "auth": base64("user:password"). */
static int decode_auth(const char *b64, const char *key, struct creds *out, struct err *e)
{
	size_t n = strlen(b64), olen = 0;
	_cleanup_free_ unsigned char *raw = xmalloc(n + 1);
	char *colon;

	if (mbedtls_base64_decode(raw, n + 1, &olen, (const unsigned char *)b64, n) != 0 ||
	    memchr(raw, 0, olen) || !(colon = memchr(raw, ':', olen))) {
		memset(raw, 0, n + 1);
		return err_set(e, -EINVAL, "config.json: malformed \"auth\" for %s", key);
	}
	raw[olen] = 0;
	out->username = xstrndup((char *)raw, (size_t)(colon - (char *)raw));
	out->password = xstrdup(colon + 1);
	memset(raw, 0, n + 1);
	return 0;
}

int creds_lookup(const char *dir, const char *host, struct creds *out, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	_cleanup_json_ json_t *cfg = NULL;
	json_t *auths, *ent;
	const char *helper, *key, *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = config_path(dir, &path, e)) < 0)
		return rc;
	if (!(cfg = config_load(buf_str(&path), e)))
		return e ? e->code : -EINVAL;
	if ((helper = helper_for(cfg, host)))
		return helper_get(helper, creds_server_key(host), out, e);
	auths = json_object_get(cfg, "auths");
	if (!(key = find_key(auths, host)) || !json_is_object(ent = json_object_get(auths, key)))
		return 0;
	if ((s = jsonx_str(ent, "auth")) && *s) {
		if ((rc = decode_auth(s, key, out, e)) < 0)
			return rc;
	} else if ((s = jsonx_str(ent, "username"))) {
		out->username = xstrdup(s);
		out->password = xstrdup(jsonx_str(ent, "password") ? jsonx_str(ent, "password") : "");
	}
	if ((s = jsonx_str(ent, "identitytoken")) && *s)
		out->identity_token = xstrdup(s);
	if (!out->username && !out->identity_token)
		return 0;
	return 1;
}

int creds_store(const char *dir, const char *host, const struct creds *c, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT, up = BUF_INIT, b64 = BUF_INIT;
	_cleanup_json_ json_t *cfg = NULL;
	const char *helper, *key = creds_server_key(host), *old;
	json_t *auths, *ent;
	size_t olen = 0;
	int rc;

	if ((rc = config_path(dir, &path, e)) < 0)
		return rc;
	if (!(cfg = config_load(buf_str(&path), e)))
		return e ? e->code : -EINVAL;
	if ((helper = helper_for(cfg, host))) {
		_cleanup_json_ json_t *in = json_pack(
			"{s:s, s:s, s:s}", "ServerURL", key, "Username",
			c->identity_token ? "<token>" : (c->username ? c->username : ""), "Secret",
			c->identity_token ? c->identity_token : (c->password ? c->password : ""));
		_cleanup_free_ char *txt = json_dumps(in, JSON_COMPACT);
		rc = helper_simple(helper, "store", txt, e);
		wipe_free(txt);
		txt = NULL;
		if (rc < 0)
			return rc;
		/* docker leaves an empty entry in auths so that `list` sees it */
		ent = json_object();
	} else {
		buf_printf(&up, "%s:%s", c->username ? c->username : "", c->password ? c->password : "");
		buf_reserve(&b64, 4 * (up.len / 3 + 2) + 1);
		mbedtls_base64_encode((unsigned char *)b64.data, b64.cap, &olen,
				      (const unsigned char *)buf_str(&up), up.len);
		memset(up.data, 0, up.len);
		ent = json_pack("{s:s}", "auth", b64.data);
		memset(b64.data, 0, olen);
		if (c->identity_token)
			json_object_set_new(ent, "identitytoken", json_string(c->identity_token));
	}
	auths = json_object_get(cfg, "auths");
	if (!json_is_object(auths)) {
		auths = json_object();
		json_object_set_new(cfg, "auths", auths);
	}
	/* one entry per registry: drop differently-spelled keys for it */
	while ((old = find_key(auths, host)))
		json_object_del(auths, old);
	json_object_set_new(auths, key, ent);
	return config_save(buf_str(&path), cfg, e);
}

int creds_erase(const char *dir, const char *host, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	_cleanup_json_ json_t *cfg = NULL;
	const char *helper, *old;
	json_t *auths;
	int rc, found = 0;

	if ((rc = config_path(dir, &path, e)) < 0)
		return rc;
	if (!(cfg = config_load(buf_str(&path), e)))
		return e ? e->code : -EINVAL;
	if ((helper = helper_for(cfg, host))) {
		rc = helper_simple(helper, "erase", creds_server_key(host), e);
		if (rc < 0 && rc != -ENOENT)
			return rc;
		found = rc == 0;
	}
	auths = json_object_get(cfg, "auths");
	while ((old = find_key(auths, host))) {
		json_object_del(auths, old);
		found = 1;
	}
	if (!found)
		return err_set(e, -ENOENT, "not logged in to %s", host);
	return config_save(buf_str(&path), cfg, e);
}

static void entry_add(struct creds_entry **v, size_t *n, const char *server, const char *user)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*v)[i].server, server) == 0) {
			if (!(*v)[i].username && user)
				(*v)[i].username = xstrdup(user);
			return;
		}
	}
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[*n].server = xstrdup(server);
	(*v)[*n].username = user ? xstrdup(user) : NULL;
	(*n)++;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct creds_entry *)a)->server, ((const struct creds_entry *)b)->server);
}

int creds_list(const char *dir, struct creds_entry **out, size_t *n, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	_cleanup_json_ json_t *cfg = NULL;
	struct creds_entry *v = NULL;
	size_t nv = 0;
	const char *k, *store;
	json_t *val;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = config_path(dir, &path, e)) < 0)
		return rc;
	if (!(cfg = config_load(buf_str(&path), e)))
		return e ? e->code : -EINVAL;
	json_object_foreach(json_object_get(cfg, "auths"), k, val) {
		struct creds c = { 0 };
		const char *a = jsonx_str(val, "auth");
		if (a && *a && decode_auth(a, k, &c, NULL) == 0)
			entry_add(&v, &nv, k, c.username);
		else
			entry_add(&v, &nv, k, jsonx_str(val, "username"));
		creds_free(&c);
	}
	json_object_foreach(json_object_get(cfg, "credHelpers"), k, val)
		entry_add(&v, &nv, k, NULL);
	if ((store = jsonx_str(cfg, "credsStore")) && *store) {
		_cleanup_buf_ struct buf o = BUF_INIT;
		_cleanup_json_ json_t *j = NULL;
		int st;
		buf_init(&o, HELPER_OUT_MAX);
		if (helper_run(store, "list", "", &o, &st, NULL) == 0 && st == 0 &&
		    (j = jsonx_parse(o.data, o.len, HELPER_OUT_MAX, "helper list", NULL)))
			json_object_foreach(j, k, val) entry_add(&v, &nv, k, json_string_value(val));
	}
	if (nv)
		qsort(v, nv, sizeof(*v), cmp_entry);
	*out = v;
	*n = nv;
	return 0;
}

void creds_entries_free(struct creds_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].server);
		free(v[i].username);
	}
	free(v);
}

/* ---- connections ---- */

void creds_conn_opts_from_env(struct creds_conn_opts *o)
{
	const char *s;

	if ((s = getenv("CONTAINER_REGISTRY_CA")) && *s)
		o->ca_file = s;
	if ((s = getenv("CONTAINER_REGISTRY_INSECURE")) && *s)
		o->insecure = s;
}

static int in_list(const char *list, const char *host)
{
	size_t n = strlen(host);

	while (list && *list) {
		size_t l = strcspn(list, ", ");
		if (l == n && strncmp(list, host, n) == 0)
			return 1;
		list += l;
		list += strspn(list, ", ");
	}
	return 0;
}

static enum registry_scheme scheme_for(const struct creds_conn_opts *o, const char *host)
{
	if (o->scheme == REGISTRY_SCHEME_AUTO && in_list(o->insecure, host))
		return REGISTRY_SCHEME_HTTP;
	return o->scheme;
}

static struct http_client *http_for(const struct creds_conn_opts *o, struct err *e)
{
	struct http_client_opts ho = { 0 };

	http_client_opts_from_env(&ho);
	ho.ca_file = o->ca_file;
	ho.connect_timeout_ms = 15000;
	ho.idle_timeout_ms = 30000;
	return http_client_new(&ho, e);
}

int creds_connect(const char *host, const struct creds_conn_opts *o, struct creds_conn **out,
		  struct err *e)
{
	struct creds_conn_opts dflt = { 0 };
	struct registry_opts ro = { 0 };
	struct creds_conn *c;
	int rc;

	if (!o)
		o = &dflt;
	c = xcalloc(1, sizeof(*c));
	c->host = xstrdup(host);
	if (o->creds) {
		c->creds.username = o->creds->username ? xstrdup(o->creds->username) : NULL;
		c->creds.password = o->creds->password ? xstrdup(o->creds->password) : NULL;
		c->creds.identity_token =
			o->creds->identity_token ? xstrdup(o->creds->identity_token) : NULL;
	} else if (!o->anonymous && (rc = creds_lookup(o->config_dir, host, &c->creds, e)) < 0) {
		creds_conn_free(c);
		return err_wrap(e, "credentials for %s", host);
	}
	c->ac.username = c->creds.username;
	c->ac.password = c->creds.password;
	c->ac.identity_token = c->creds.identity_token;
	ro.scheme = scheme_for(o, host);
	ro.creds = c->creds.username || c->creds.identity_token ? &c->ac : NULL;
	if (!(c->http = http_for(o, e)) || !(c->reg = registry_new(c->http, host, &ro, e))) {
		creds_conn_free(c);
		return e ? e->code : -EINVAL;
	}
	*out = c;
	return 0;
}

void creds_conn_free(struct creds_conn *c)
{
	if (!c)
		return;
	registry_free(c->reg);
	http_client_free(c->http);
	creds_free(&c->creds);
	free(c->host);
	free(c);
}

/* One GET of /v2/ at base, answering a 401 once. */
static int ping(struct http_client *http, struct auth *a, const char *base, const char *host,
		struct err *e)
{
	_cleanup_buf_ struct buf url = BUF_INIT;
	_cleanup_free_ char *authz = NULL;
	struct http_response *resp = NULL;
	int rc;

	buf_printf(&url, "%s/v2/", base);
	for (int round = 0; round < 2; round++) {
		struct http_request rq = { .method = "GET", .url = buf_str(&url),
					   .authorization = authz };
		if ((rc = http_do(http, &rq, &resp, e)) < 0)
			return rc;
		if (resp->status == 200) {
			http_response_free(resp);
			return 0;
		}
		if (resp->status != 401 || round == 1)
			break;
		rc = auth_answer(a, http_response_header(resp, "www-authenticate"), "", &authz, e);
		http_response_free(resp);
		resp = NULL;
		if (rc < 0)
			return err_wrap(e, "login to %s failed", host);
	}
	rc = resp->status == 401 || resp->status == 403
		     ? err_set(e, -EACCES, "login to %s failed: the registry refused the credentials (%d)",
			       host, resp->status)
		     : err_set(e, -EIO, "login to %s failed: unexpected status %d from /v2/", host,
			       resp->status);
	http_response_free(resp);
	return rc;
}

int creds_verify(const char *host, const struct creds_conn_opts *o, const struct creds *c,
		 struct err *e)
{
	struct creds_conn_opts dflt = { 0 };
	_cleanup_buf_ struct buf base = BUF_INIT;
	struct auth_creds ac = { c->username, c->password, c->identity_token };
	enum registry_scheme sch;
	struct http_client *http;
	struct auth *a;
	struct http_url u;
	int rc;

	if (!o)
		o = &dflt;
	sch = scheme_for(o, host);
	if (!(http = http_for(o, e)))
		return e ? e->code : -EINVAL;
	a = auth_new(http, host, &ac, NULL);
	buf_printf(&base, "%s://%s", sch == REGISTRY_SCHEME_HTTP ? "http" : "https",
		   is_hub(host) ? "registry-1.docker.io" : host);
	rc = ping(http, a, buf_str(&base), host, e);
	if (rc < 0 && sch == REGISTRY_SCHEME_AUTO && e && strstr(e->msg, "TLS: handshake") &&
	    !strstr(e->msg, "certificate")) {
		/* a loopback registry speaking plain http (what registry.c does too) */
		buf_reset(&base);
		buf_printf(&base, "https://%s/", host);
		if (http_url_parse(buf_str(&base), &u, NULL) == 0) {
			if (http_host_is_loopback(u.host)) {
				buf_reset(&base);
				buf_printf(&base, "http://%s", host);
				rc = ping(http, a, buf_str(&base), host, e);
			}
			http_url_free(&u);
		}
	}
	auth_free(a);
	http_client_free(http);
	return rc;
}
