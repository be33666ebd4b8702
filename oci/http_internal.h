/* Internals shared by oci/http.c and oci/http_url.c only. */
#ifndef OCI_HTTP_INTERNAL_H
#define OCI_HTTP_INTERNAL_H

#include "oci/http.h"

struct http__proxy {
	struct http_url url;   /* the proxy itself (http://) */
	char *auth;            /* "Basic ..." for Proxy-Authorization, or NULL */
};

/* 1 with px filled when u goes through a proxy, 0 when direct. */
int http__proxy_for(const struct http_client_opts *o, const struct http_url *u,
		    struct http__proxy *px, struct err *e);
void http__proxy_free(struct http__proxy *px);

#endif
