/* Our CLI's way to the API server (see applets/cliapi.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/cliapi.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "lib/mem.h"

#define ERROR_BODY_MAX 65536

static bool autostart_allowed(void)
{
	const char *v = getenv("CONTAINER_NO_AUTOSTART");

	return !v || !*v || strcmp(v, "0") == 0;
}

int cliapi_connect(struct cliapi *a, struct err *e)
{
	struct api_response r;
	int rc;

	buf_init(&a->sock, 4096);
	a->status = 0;
	if ((rc = api_client_socket_path(&a->sock, e)) < 0)
		return rc;
	rc = api_client_call(buf_str(&a->sock), "GET", "/_ping", NULL, 0, 10000, &r, e);
	api_response_free(&r);
	if (rc == 0 && r.status == 200)
		return 0;
	if (rc == 0)
		return err_set(e, -EPROTO, "the API server on %s answered /_ping with %d",
			       buf_str(&a->sock), r.status);
	if (rc != -ECONNREFUSED)
		return rc;
	if (!autostart_allowed())
		return err_set(e, -ECONNREFUSED,
			       "the API server is not running (no server on %s); start it with: "
			       "container system start", buf_str(&a->sock));
	err_clear(e);
	if ((rc = api_client_start_server(buf_str(&a->sock), CLIAPI_START_WAIT_MS, e)) < 0)
		return err_wrap(e, "starting the API server (container system start)");
	fprintf(stderr, "container: started the API server on %s (container system stop ends it)\n",
		buf_str(&a->sock));
	return 0;
}

void cliapi_free(struct cliapi *a)
{
	buf_free(&a->sock);
}

int cliapi_error(int status, const char *body, size_t n, struct err *e)
{
	json_t *j = n ? jsonx_parse(body, n, ERROR_BODY_MAX, "error", NULL) : NULL;
	const char *msg = jsonx_str(j, "message");
	int code = status == 404 ? -ENOENT : status == 409 ? -EEXIST : status == 400 ? -EINVAL : -EIO;

	if (msg)
		err_set(e, code, "%s", msg);
	else
		err_set(e, code, "the API server answered %d", status);
	json_decref(j);
	return code;
}

static int body_text(const json_t *body, struct buf *out, struct err *e)
{
	return body ? jsonx_dump_buf(body, JSON_COMPACT, out, e) : 0;
}

int cliapi_call(struct cliapi *a, const char *method, const char *path, const json_t *body,
		json_t **out, struct err *e)
{
	_cleanup_buf_ struct buf req = BUF_INIT;
	struct api_response r;
	int rc;

	if (out)
		*out = NULL;
	if ((rc = body_text(body, &req, e)) < 0)
		return rc;
	rc = api_client_call(buf_str(&a->sock), method, path, body ? req.data : NULL, req.len,
			     CLIAPI_TIMEOUT_MS, &r, e);
	a->status = r.status;
	if (rc == 0 && r.status >= 400)
		rc = cliapi_error(r.status, r.body.data, r.body.len, e);
	else if (rc == 0 && out && r.body.len &&
		 !(*out = jsonx_parse(r.body.data, r.body.len, API_CLIENT_BODY_MAX, "API answer", e)))
		rc = e->code;
	api_response_free(&r);
	return rc;
}

int cliapi_once(const char *method, const char *path, const json_t *body, json_t **out,
		struct err *e)
{
	struct cliapi a;
	int rc = cliapi_connect(&a, e);

	if (rc == 0)
		rc = cliapi_call(&a, method, path, body, out, e);
	cliapi_free(&a);
	return rc;
}

int cliapi_request(const char *group, const char *cmd, const char *method, const char *path,
		   const json_t *body, json_t **out)
{
	struct err e = ERR_INIT;
	int rc = cliapi_once(method, path, body, out, &e);

	if (rc < 0)
		fprintf(stderr, "container %s %s: %s\n", group, cmd, e.msg);
	return rc;
}

/* The head was read: a status of 400 and up becomes the error. */
static int stream_status(struct cliapi *a, struct api_stream *s, int rc, struct err *e)
{
	_cleanup_buf_ struct buf eb = BUF_INIT;

	a->status = s->status;
	if (rc == 0 && s->status >= 400) {
		buf_init(&eb, ERROR_BODY_MAX);
		while ((rc = (int)api_stream_read(s, &eb, e)) > 0)
			;
		rc = cliapi_error(s->status, eb.data, eb.len, e);
	}
	if (rc < 0)
		api_stream_close(s);
	return rc;
}

int cliapi_open(struct cliapi *a, const char *method, const char *path, const json_t *body,
		unsigned flags, struct api_stream *s, struct err *e)
{
	return cliapi_open_ex(a, method, path, NULL, body, -1, flags, s, e);
}

int cliapi_open_ex(struct cliapi *a, const char *method, const char *path, const char *headers,
		   const json_t *body, int body_fd, unsigned flags, struct api_stream *s,
		   struct err *e)
{
	_cleanup_buf_ struct buf req = BUF_INIT;
	int rc;

	if ((rc = body_text(body, &req, e)) < 0)
		return rc;
	rc = api_client_open_ex(buf_str(&a->sock), method, path, headers, body ? req.data : NULL,
				req.len, body_fd, flags, 0, s, e);
	if (rc == 0 && (flags & API_CLIENT_SEND_TAR))
		return 0;   /* no answer yet: cliapi_finish */
	return stream_status(a, s, rc, e);
}

int cliapi_finish(struct cliapi *a, struct api_stream *s, bool complete, struct err *e)
{
	return stream_status(a, s, api_stream_finish(s, complete, e), e);
}

void cliapi_escape(struct buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			buf_putc(out, (char)c);
		else
			buf_printf(out, "%%%02X", c);
	}
}

int cliapi_kv_object(const char *what, const char *const *v, json_t **out, struct err *e)
{
	json_t *o = json_object();

	*out = NULL;
	for (; v && *v; v++) {
		const char *eq = strchr(*v, '=');
		size_t klen = eq ? (size_t)(eq - *v) : strlen(*v);
		_cleanup_free_ char *k = xstrndup(*v, klen);
		if (!*k || json_object_set_new(o, k, json_string(eq ? eq + 1 : "")) < 0) {
			json_decref(o);
			return err_set(e, -EINVAL, "invalid %s '%s'", what, *v);
		}
	}
	*out = o;
	return 0;
}
