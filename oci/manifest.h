/* OCI and Docker image documents: image index / manifest list, image
 * manifest (OCI and Docker schema2), the image config, descriptors and
 * platforms.  Everything here parses outside data (a registry, an archive
 * given to `image load`): each document is bounded, strictly typed and
 * validated before any field is trusted.
 *
 * Used by the registry client and pull (manifest_parse with the response's
 * Content-Type, manifest_select for --platform), by the content store's
 * garbage collector (walking index -> manifest -> config/layers), by
 * save/load and by run (image_config_parse for Env/Entrypoint/Cmd/...).
 *
 * Limits (a document over one is refused with -E2BIG or -EFBIG, never
 * truncated):
 *   manifests and indexes   4 MiB       (the distribution spec's limit)
 *   image configs           8 MiB
 *   layers per manifest     1024        (Docker's own cap is 127 with overlay)
 *   entries per index       1024
 *   any blob size           1 TiB       (manifest/index children: 4 MiB,
 *                                        configs: 8 MiB, as above)
 *   Env/Cmd/Entrypoint/ExposedPorts/Volumes/Labels   4096 entries each
 *   JSON nesting            jansson's parser depth limit (2048)
 *
 * Docker schema1 documents are refused with a message saying so.
 *
 * Ownership: a struct manifest / struct image_config owns the parsed JSON;
 * every `const char *` inside it is borrowed from that JSON and lives as
 * long as the struct. */
#ifndef OCI_MANIFEST_H
#define OCI_MANIFEST_H

#include <stddef.h>

#include <jansson.h>

#include "oci/digest.h"

struct buf;
struct err;

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_OCI_LAYER_ND "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define MT_OCI_LAYER_ND_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define MT_OCI_LAYER_ND_ZSTD "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* The Accept header value for manifest requests, preferred first. */
#define MANIFEST_ACCEPT                                                                            \
	MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST

#define MANIFEST_MAX_BYTES (4u << 20)
#define IMAGE_CONFIG_MAX_BYTES (8u << 20)
#define MANIFEST_MAX_LAYERS 1024
#define MANIFEST_MAX_CHILDREN 1024
#define MANIFEST_MAX_BLOB_SIZE (1LL << 40)
#define IMAGE_CONFIG_MAX_LIST 4096
#define PLATFORM_FIELD_MAX 31

/* "linux/arm64/v8".  Fields are short ASCII words; "" when absent. */
struct platform {
	char os[PLATFORM_FIELD_MAX + 1];
	char arch[PLATFORM_FIELD_MAX + 1];
	char variant[PLATFORM_FIELD_MAX + 1];
};

struct descriptor {
	const char *media_type; /* validated syntax; borrowed */
	struct digest digest;	/* sha256 only */
	long long size;		/* 0 <= size <= the bound for its type */
	int has_platform;
	struct platform platform;  /* normalized (see platform_normalize) */
	const json_t *annotations; /* object of strings, or NULL; borrowed */
};

enum manifest_kind {
	MANIFEST_UNKNOWN = 0,
	MANIFEST_INDEX,	  /* OCI image index or Docker manifest list */
	MANIFEST_IMAGE,	  /* OCI image manifest or Docker schema2 manifest */
	MANIFEST_SCHEMA1, /* only ever reported, never parsed */
};

struct manifest {
	enum manifest_kind kind;
	const char *media_type; /* the effective media type (a MT_* string) */
	/* MANIFEST_INDEX */
	struct descriptor *manifests;
	size_t n_manifests;
	/* MANIFEST_IMAGE */
	struct descriptor config;
	struct descriptor *layers;
	size_t n_layers;
	const json_t *annotations; /* or NULL */
	json_t *root;		   /* owned */
};

/* Parse and validate an index or image manifest.  content_type is the
 * HTTP Content-Type (parameters ignored) or the mediaType of the
 * descriptor that pointed here, or NULL when unknown (a file in an
 * archive); generic types (application/json, application/octet-stream,
 * text/plain) count as unknown.  When both it and the document's mediaType
 * are known they must name the same kind (index or manifest; -EBADMSG
 * otherwise); OCI vs Docker spelling of one kind is tolerated and the
 * document's own mediaType wins.  A document holding both
 * "manifests" and "config"/"layers" is refused (-EBADMSG), as is one whose
 * kind cannot be told.  Schema1: -ENOTSUP. */
int manifest_parse(const void *data, size_t len, const char *content_type, struct manifest **out,
		   struct err *e);
void manifest_free(struct manifest *m);

/* What a media type names: MANIFEST_INDEX, MANIFEST_IMAGE, MANIFEST_SCHEMA1
 * or MANIFEST_UNKNOWN (parameters after ';' ignored). */
enum manifest_kind manifest_media_kind(const char *media_type);

/* For an image about to be unpacked: the config's media type is an image
 * config and every layer's media type is one we can read.  -ENOTSUP
 * naming the first unsupported one. */
int manifest_check_image(const struct manifest *m, struct err *e);

enum layer_compression { LAYER_PLAIN = 0, LAYER_GZIP, LAYER_ZSTD };
/* The compression of a layer media type, or -ENOTSUP. */
int manifest_layer_compression(const char *media_type, struct err *e);

/* Pick the image manifest for want from an index: exact os/arch/variant
 * first, then the closest compatible variant (arm v7 runs v6 and v5; amd64
 * v3 runs v2 and v1).  Entries with platform unknown/unknown and
 * attestation manifests are skipped.  -ENOENT listing the platforms the
 * index offers when none fits.  *out points into idx. */
int manifest_select(const struct manifest *idx, const struct platform *want,
		    const struct descriptor **out, struct err *e);

/* "os/arch[/variant]" (as given to --platform), normalized; -EINVAL. */
int platform_parse(const char *s, struct platform *out, struct err *e);
/* Canonical names: x86_64/x86-64 -> amd64 (variant v1 -> ""),
 * aarch64 -> arm64 (variant "" or 8 -> v8), armhf -> arm/v7,
 * armel -> arm/v6, arm with no variant -> v7, i386/i686 -> 386,
 * macos -> darwin; os and arch lower-cased. */
void platform_normalize(struct platform *p);
/* linux/<the architecture this binary runs on>. */
void platform_host(struct platform *out);
/* "os/arch" or "os/arch/variant". */
void platform_format(const struct platform *p, struct buf *out);
/* 0 when have cannot run as want; otherwise a rank, higher is better. */
int platform_match(const struct platform *want, const struct platform *have);

/* The parts of an image config (OCI "application/vnd.oci.image.config.v1+json"
 * or Docker's) that run and inspect use.  Lists are NULL-terminated arrays
 * of borrowed strings, NULL when the document has none (Cmd: null). */
struct image_config {
	struct platform platform;
	const char *created; /* RFC 3339 or NULL */
	const char *user;    /* NULL when unset */
	const char *working_dir;
	const char *stop_signal;
	const char **env; /* "KEY=value" */
	const char **entrypoint;
	const char **cmd;
	const char **exposed_ports; /* "80/tcp" */
	const char **volumes;	    /* "/data" */
	const char **label_keys;    /* parallel with label_values */
	const char **label_values;
	size_t n_env, n_entrypoint, n_cmd, n_exposed_ports, n_volumes, n_labels;
	struct digest *diff_ids;
	size_t n_diff_ids;
	json_t *root; /* owned */
};

int image_config_parse(const void *data, size_t len, struct image_config **out, struct err *e);
void image_config_free(struct image_config *c);
/* The config belongs with the manifest: one diff_id per layer. */
int manifest_check_config(const struct manifest *m, const struct image_config *c, struct err *e);

#endif
