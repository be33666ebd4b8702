/* The declarative option parser and generated help (see lib/opt.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/opt.h"

/* Does the '|'-separated list names contain word (of length n)? */
int opt__names_match(const char *names, const char *word, size_t n)
{
	const char *s = names;

	while (s && *s) {
		const char *bar = strchr(s, '|');
		size_t len = bar ? (size_t)(bar - s) : strlen(s);
		if (len == n && strncmp(s, word, n) == 0)
			return 1;
		s = bar ? bar + 1 : NULL;
	}
	return 0;
}

static const struct opt *find_long(const struct opt *opts, const char *name, size_t n)
{
	for (const struct opt *o = opts; o && (o->name || o->shortname); o++)
		if (o->name && opt__names_match(o->name, name, n))
			return o;
	return NULL;
}

static const struct opt *find_short(const struct opt *opts, char c)
{
	for (const struct opt *o = opts; o && (o->name || o->shortname); o++)
		if (o->shortname == c)
			return o;
	return NULL;
}

static int takes_value(const struct opt *o)
{
	return o->type == OPT_T_STRING || o->type == OPT_T_INT || o->type == OPT_T_LIST;
}

/* How to name an option in messages: "--env" or "-e". */
static void opt_label(const struct opt *o, char *out, size_t n)
{
	if (o->name) {
		const char *bar = strchr(o->name, '|');
		int len = bar ? (int)(bar - o->name) : (int)strlen(o->name);
		snprintf(out, n, "--%.*s", len, o->name);
	} else {
		snprintf(out, n, "-%c", o->shortname);
	}
}

static int parse_bool(const char *v, int *out)
{
	static const char *const t[] = { "true", "True", "TRUE", "1", "yes" };
	static const char *const f[] = { "false", "False", "FALSE", "0", "no" };
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (strcmp(v, t[i]) == 0)
			return *out = 1, 0;
		if (strcmp(v, f[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

/* Store one occurrence of o (value v, NULL when none) into dst. */
static int apply(const struct opt *o, void *dst, const char *v, struct err *e)
{
	char *field = (char *)dst + o->offset;
	char label[64];

	opt_label(o, label, sizeof(label));
	switch (o->type) {
	case OPT_T_FLAG: {
		int b = 1;
		if (v && parse_bool(v, &b) < 0)
			return err_set(e, -EINVAL, "invalid value '%s' for %s: want true or false", v, label);
		*(int *)field = b;
		return 0;
	}
	case OPT_T_COUNT:
		if (v)
			return err_set(e, -EINVAL, "option %s takes no value", label);
		(*(int *)field)++;
		return 0;
	case OPT_T_STRING:
		*(const char **)field = v;
		return 0;
	case OPT_T_INT: {
		char *end;
		long n;
		errno = 0;
		n = strtol(v, &end, 10);
		if (!*v || *end || errno)
			return err_set(e, -EINVAL, "invalid value '%s' for %s: want an integer", v, label);
		*(long *)field = n;
		return 0;
	}
	case OPT_T_LIST: {
		struct opt_list *l = (struct opt_list *)field;
		l->v = xreallocarray(l->v, l->n + 2, sizeof(*l->v));
		l->v[l->n++] = v;
		l->v[l->n] = NULL;
		return 0;
	}
	}
	return err_set(e, -EINVAL, "option %s: bad table entry", label);
}

static void add_arg(struct opt_result *res, char *a)
{
	res->args = xreallocarray(res->args, (size_t)res->nargs + 2, sizeof(*res->args));
	res->args[res->nargs++] = a;
	res->args[res->nargs] = NULL;
}

/* "--name", "--name=value", "--name value". Returns argv entries used. */
static int parse_long(const struct opt *opts, void *dst, int argc, char **argv,
		      int i, struct opt_result *res, struct err *e)
{
	const char *name = argv[i] + 2;
	const char *eq = strchr(name, '=');
	size_t n = eq ? (size_t)(eq - name) : strlen(name);
	const struct opt *o = find_long(opts, name, n);
	int rc;

	if (!o) {
		if (n == 4 && strncmp(name, "help", 4) == 0 && !eq)
			return res->help = 1, 1;
		if (n == 5 && strncmp(name, "debug", 5) == 0 && !eq)
			return res->debug = 1, 1;
		return err_set(e, -EINVAL, "unknown option --%.*s", (int)(n > 64 ? 64 : n), name);
	}
	if (!takes_value(o)) {
		rc = apply(o, dst, eq ? eq + 1 : NULL, e);
		return rc < 0 ? rc : 1;
	}
	if (eq) {
		rc = apply(o, dst, eq + 1, e);
		return rc < 0 ? rc : 1;
	}
	if (i + 1 >= argc)
		return err_set(e, -EINVAL, "option --%s needs a value (%s)", name,
			       o->arg ? o->arg : "VALUE");
	rc = apply(o, dst, argv[i + 1], e);
	return rc < 0 ? rc : 2;
}

/* "-x", "-xVAL", "-x VAL", bundles "-itd", "-ieFOO". */
static int parse_short(const struct opt *opts, void *dst, int argc, char **argv,
		       int i, struct opt_result *res, struct err *e)
{
	for (const char *s = argv[i] + 1; *s; s++) {
		const struct opt *o = find_short(opts, *s);
		int rc;

		if (!o) {
			if (*s == 'h')
				res->help = 1;
			else
				return err_set(e, -EINVAL, "unknown option -%c%s", *s,
					       s == argv[i] + 1 ? "" : " (in a bundle)");
			continue;
		}
		if (s[1] == '=') {
			/* pflag's "-e=VAL" and "-d=false", as docker users type them */
			rc = apply(o, dst, s + 2, e);
			return rc < 0 ? rc : 1;
		}
		if (!takes_value(o)) {
			rc = apply(o, dst, NULL, e);
			if (rc < 0)
				return rc;
			continue;
		}
		if (s[1]) {
			rc = apply(o, dst, s + 1, e);
			return rc < 0 ? rc : 1;
		}
		if (i + 1 >= argc)
			return err_set(e, -EINVAL, "option -%c needs a value (%s)", *s,
				       o->arg ? o->arg : "VALUE");
		rc = apply(o, dst, argv[i + 1], e);
		return rc < 0 ? rc : 2;
	}
	return 1;
}

int opt_parse(const struct opt *opts, void *dst, int argc, char **argv,
	      unsigned flags, struct opt_result *res, struct err *e)
{
	int i = 0, only_args = 0;

	memset(res, 0, sizeof(*res));
	add_arg(res, NULL);
	res->nargs = 0;
	while (i < argc) {
		char *a = argv[i];
		int used;

		if (only_args || a[0] != '-' || a[1] == '\0') {
			add_arg(res, a);
			i++;
			if (flags & OPT_STOP_AT_OPERAND)
				only_args = 1;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = 1;
			i++;
			continue;
		}
		if (a[1] == '-')
			used = parse_long(opts, dst, argc, argv, i, res, e);
		else
			used = parse_short(opts, dst, argc, argv, i, res, e);
		if (used < 0) {
			opt_free(opts, dst, res);
			return used;
		}
		i += used;
	}
	return 0;
}

void opt_free(const struct opt *opts, void *dst, struct opt_result *res)
{
	for (const struct opt *o = opts; o && (o->name || o->shortname); o++) {
		if (o->type == OPT_T_LIST) {
			struct opt_list *l = (struct opt_list *)((char *)dst + o->offset);
			free(l->v);
			l->v = NULL;
			l->n = 0;
		}
	}
	if (res) {
		free(res->args);
		res->args = NULL;
		res->nargs = 0;
	}
}
