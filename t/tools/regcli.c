/* regcli: a test driver exposing oci/registry.c to the shell tests
 * (t/integ/registry_*.sh).  Not part of the product.
 *
 *   regcli [options] get-manifest HOST REPO REF [OUTFILE]   prints "digest type size"
 *   regcli [options] head-manifest HOST REPO REF            prints "digest type size"
 *   regcli [options] get-blob HOST REPO DIGEST OUTFILE      resumes a partial OUTFILE
 *   regcli [options] head-blob HOST REPO DIGEST             prints the size
 *   regcli [options] push-blob HOST REPO FILE               prints the digest
 *   regcli [options] push-manifest HOST REPO REF TYPE FILE  prints the digest
 *
 * options: --ca FILE, --user NAME (password from $REGCLI_PASSWORD),
 *          --scheme auto|http|https, --chunk BYTES, --mount-from REPO,
 *          --oauth (POST the oauth2 form for tokens)
 * Exit 0 on success; 1 with "regcli: <message>" on stderr otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "oci/auth.h"
#include "oci/digest.h"
#include "oci/http.h"
#include "oci/registry.h"

static int fail(struct err *e)
{
	fprintf(stderr, "regcli: %s\n", e->msg);
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: regcli [--ca F] [--user U] [--scheme S] [--chunk N] [--mount-from R] [--oauth]\n"
			"  get-manifest|head-manifest HOST REPO REF [OUT] | get-blob HOST REPO DIGEST OUT |\n"
			"  head-blob HOST REPO DIGEST | push-blob HOST REPO FILE | push-manifest HOST REPO REF TYPE FILE\n");
	return 2;
}

static int get_blob(struct registry *reg, const char *repo, const char *dg, const char *path,
		    struct err *e)
{
	struct http_response *resp = NULL;
	struct digest d;
	struct sha256 h;
	struct digest got;
	struct stat st;
	long long offset = 0, total;
	unsigned char *tmp;
	int fd, rc;

	if ((rc = digest_parse(dg, &d, e)) < 0)
		return rc;
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		return err_sys(e, "open %s", path);
	/* Resume: hash what is already there, fetch the rest with Range. */
	sha256_init(&h);
	tmp = xmalloc(1 << 16);
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		ssize_t n;
		while ((n = read(fd, tmp, 1 << 16)) > 0) {
			sha256_update(&h, tmp, (size_t)n);
			offset += n;
		}
		printf("resume-from %lld\n", offset);
	}
	rc = registry_get_blob(reg, repo, &d, offset, &resp, &total, e);
	while (rc == 0) {
		ssize_t n = reader_read(&resp->body, tmp, 1 << 16, e);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n == 0)
			break;
		sha256_update(&h, tmp, (size_t)n);
		if ((rc = fs_write_full(fd, tmp, (size_t)n, e)) < 0)
			break;
	}
	http_response_free(resp);
	free(tmp);
	close(fd);
	if (rc < 0)
		return rc;
	sha256_final(&h, &got);
	if (strcmp(got.s, d.s) != 0)
		return err_set(e, -EBADMSG, "digest mismatch for blob %s: got %s", d.s, got.s);
	printf("%s\n", got.s);
	return 0;
}

static int push_blob(struct registry *reg, const char *repo, const char *path,
		     const char *mount_from, size_t chunk, struct err *e)
{
	_cleanup_buf_ struct buf data = BUF_INIT;
	struct mem_reader mr;
	struct digest d;
	int rc, mounted;

	if ((rc = fs_read_file(path, &data, 0, e)) < 0)
		return rc;
	sha256_digest(data.data ? data.data : "", data.len, &d);
	mem_reader_init(&mr, data.data ? data.data : "", data.len);
	rc = registry_push_blob(reg, repo, &d, (long long)data.len, &mr.r, mount_from, chunk,
				&mounted, e);
	if (rc == 0)
		printf("%s%s\n", d.s, mounted ? " existing" : "");
	return rc;
}

int main(int argc, char **argv)
{
	struct http_client_opts ho = { 0 };
	struct registry_opts ro = { 0 };
	struct auth_creds cr = { 0 };
	struct auth_opts ao = { 0 };
	struct http_client *http;
	struct registry *reg;
	struct err e = ERR_INIT;
	const char *mount_from = NULL, *cmd;
	size_t chunk = 0;
	int i, rc = 0;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (i + 1 >= argc && strcmp(argv[i], "--oauth") != 0)
			return usage();
		if (strcmp(argv[i], "--ca") == 0)
			ho.ca_file = argv[++i];
		else if (strcmp(argv[i], "--user") == 0)
			cr.username = argv[++i];
		else if (strcmp(argv[i], "--chunk") == 0)
			chunk = (size_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--mount-from") == 0)
			mount_from = argv[++i];
		else if (strcmp(argv[i], "--oauth") == 0)
			ao.force_oauth = 1;
		else if (strcmp(argv[i], "--scheme") == 0) {
			i++;
			ro.scheme = strcmp(argv[i], "http") == 0 ? REGISTRY_SCHEME_HTTP :
				    strcmp(argv[i], "https") == 0 ? REGISTRY_SCHEME_HTTPS :
				    REGISTRY_SCHEME_AUTO;
		} else
			return usage();
	}
	if (argc - i < 4)
		return usage();
	cmd = argv[i];
	cr.password = getenv("REGCLI_PASSWORD");
	ro.creds = cr.username ? &cr : NULL;
	ro.auth = &ao;
	http_client_opts_from_env(&ho);
	ho.idle_timeout_ms = 20000;
	ho.connect_timeout_ms = 5000;
	if (!(http = http_client_new(&ho, &e)))
		return fail(&e);
	if (!(reg = registry_new(http, argv[i + 1], &ro, &e))) {
		http_client_free(http);
		return fail(&e);
	}
	if (strcmp(cmd, "get-manifest") == 0 || strcmp(cmd, "head-manifest") == 0) {
		struct registry_manifest m;
		rc = cmd[0] == 'g' ? registry_get_manifest(reg, argv[i + 2], argv[i + 3], &m, &e)
				   : registry_head_manifest(reg, argv[i + 2], argv[i + 3], &m, &e);
		if (rc == 0) {
			printf("%s %s %lld\n", m.have_digest ? m.digest.s : "-",
			       m.media_type ? m.media_type : "-", m.size);
			if (argc - i > 4)
				rc = fs_write_atomic(argv[i + 4], buf_str(&m.body), m.body.len, 0644, &e);
			registry_manifest_free(&m);
		}
	} else if (strcmp(cmd, "get-blob") == 0 && argc - i == 5) {
		rc = get_blob(reg, argv[i + 2], argv[i + 3], argv[i + 4], &e);
	} else if (strcmp(cmd, "head-blob") == 0) {
		struct digest d;
		long long size;
		rc = digest_parse(argv[i + 3], &d, &e);
		if (rc == 0 && (rc = registry_head_blob(reg, argv[i + 2], &d, &size, &e)) == 0)
			printf("%lld\n", size);
	} else if (strcmp(cmd, "push-blob") == 0) {
		rc = push_blob(reg, argv[i + 2], argv[i + 3], mount_from, chunk, &e);
	} else if (strcmp(cmd, "push-manifest") == 0 && argc - i == 6) {
		_cleanup_buf_ struct buf body = BUF_INIT;
		struct digest d;
		rc = fs_read_file(argv[i + 5], &body, REGISTRY_MANIFEST_MAX, &e);
		if (rc == 0)
			rc = registry_put_manifest(reg, argv[i + 2], argv[i + 3], argv[i + 4],
						   buf_str(&body), body.len, &d, &e);
		if (rc == 0)
			printf("%s\n", d.s);
	} else {
		rc = usage();
	}
	registry_free(reg);
	http_client_free(http);
	if (rc < 0)
		return fail(&e);
	return rc;
}
