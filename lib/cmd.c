/* Running a command descriptor: option parsing, --help, operand counts,
 * group dispatch, and the help text generated from the option table (so
 * that usage cannot drift from what is parsed).  See lib/opt.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/opt.h"

int cmd_matches(const struct cmd *c, const char *word)
{
	size_t n = strlen(word);
	if (strcmp(c->name, word) == 0)
		return 1;
	return c->aliases && opt__names_match(c->aliases, word, n);
}

const struct cmd *cmd_find(const struct cmd *const *list, const char *word)
{
	for (; list && *list; list++)
		if (cmd_matches(*list, word))
			return *list;
	return NULL;
}

/* Left column of an option's help line: "-e, --env KEY=VAL". */
static void opt_left(const struct opt *o, struct buf *b)
{
	if (o->shortname)
		buf_printf(b, "-%c%s", o->shortname, o->name ? ", " : "");
	else
		buf_puts(b, "    ");
	if (o->name) {
		const char *bar = strchr(o->name, '|');
		int len = bar ? (int)(bar - o->name) : (int)strlen(o->name);
		buf_printf(b, "--%.*s", len, o->name);
	}
	if (o->arg)
		buf_printf(b, " %s", o->arg);
}

static void print_row(FILE *f, const char *left, const char *right)
{
	if (strlen(left) <= 26)
		fprintf(f, "  %-26s  %s\n", left, right);
	else
		fprintf(f, "  %s\n  %-26s  %s\n", left, "", right);
}

static void print_opts(FILE *f, const struct opt *opts)
{
	int has_h = 0;

	fprintf(f, "\nOptions:\n");
	for (const struct opt *o = opts; o && (o->name || o->shortname); o++) {
		_cleanup_buf_ struct buf left = BUF_INIT, right = BUF_INIT;
		if (!o->help)
			continue;
		if (o->shortname == 'h')
			has_h = 1;
		opt_left(o, &left);
		buf_puts(&right, o->help);
		if (o->type == OPT_T_LIST || o->type == OPT_T_COUNT)
			buf_puts(&right, " (repeatable)");
		if (o->name && strchr(o->name, '|'))
			buf_printf(&right, " [also --%s]", strchr(o->name, '|') + 1);
		print_row(f, buf_str(&left), buf_str(&right));
	}
	print_row(f, has_h ? "    --help" : "-h, --help", "Show this help");
	print_row(f, "    --debug", "Log debug messages to stderr");
}

void cmd_list(FILE *f, const struct cmd *const *list)
{
	for (; list && *list; list++) {
		if (!(*list)->summary)
			continue;   /* hidden */
		print_row(f, (*list)->name, (*list)->summary);
	}
}

void cmd_usage(FILE *f, const char *path, const struct cmd *c)
{
	fprintf(f, "Usage: %s%s%s\n", path, c->usage ? " " : "", c->usage ? c->usage : "");
	if (c->summary)
		fprintf(f, "\n%s\n", c->summary);
	if (c->help)
		fprintf(f, "\n%s\n", c->help);
	if (c->aliases) {
		_cleanup_free_ char *a = xstrdup(c->aliases);
		for (char *s = a; *s; s++)
			if (*s == '|')
				*s = ',';
		fprintf(f, "\nAliases: %s\n", a);
	}
	if (c->sub) {
		fprintf(f, "\nCommands:\n");
		cmd_list(f, c->sub);
		fprintf(f, "\nRun '%s COMMAND --help' for more on a command.\n", path);
	}
	print_opts(f, c->opts);
}

static int usage_error(const char *path, const struct cmd *c, const char *msg)
{
	fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", path, msg, path);
	(void)c;
	return EXIT_USAGE;
}

/* --debug or $CONTAINER_LOG (debug|info|warn|error) raise the level of
 * every command and role, each cmd_run of a command path (the roles' own
 * log_init start from log_level()). */
static void log_level_set(int debug)
{
	const char *lv = getenv("CONTAINER_LOG");
	int level = debug ? LOG_DEBUG : lv ? log_level_parse(lv) : -1;

	if (level > (int)log_level()) {
		struct log_config lc = { "container", (enum log_level)level, -1, 0 };
		log_init(&lc);
	}
}

int cmd_run(const struct cmd *c, const char *path, int argc, char **argv)
{
	struct err e = ERR_INIT;
	struct opt_result res;
	void *opts = xcalloc(1, c->opts_size ? c->opts_size : 1);

	if (c->opts_defaults)
		memcpy(opts, c->opts_defaults, c->opts_size);
	unsigned flags = c->flags | (c->sub ? OPT_STOP_AT_OPERAND : 0);
	int rc;

	if (opt_parse(c->opts, opts, argc, argv, flags, &res, &e) < 0) {
		free(opts);
		return usage_error(path, c, e.msg);
	}
	log_level_set(res.debug);
	if (res.help) {
		cmd_usage(stdout, path, c);
		rc = EXIT_OK;
	} else if (c->sub) {
		const struct cmd *sub = res.nargs ? cmd_find(c->sub, res.args[0]) : NULL;
		if (!res.nargs && c->run) {
			rc = c->run(c, opts, 0, res.args);
		} else if (!res.nargs) {
			cmd_usage(stdout, path, c);
			rc = EXIT_OK;
		} else if (!sub) {
			fprintf(stderr, "%s: unknown command '%s'\n\nCommands:\n", path, res.args[0]);
			cmd_list(stderr, c->sub);
			rc = EXIT_USAGE;
		} else {
			_cleanup_buf_ struct buf p = BUF_INIT;
			buf_printf(&p, "%s %s", path, sub->name);
			rc = cmd_run(sub, buf_str(&p), res.nargs - 1, res.args + 1);
		}
	} else if (res.nargs < c->min_args || (c->max_args >= 0 && res.nargs > c->max_args)) {
		char msg[160];
		if (res.nargs < c->min_args)
			snprintf(msg, sizeof(msg), "missing operand (usage: %s)",
				 c->usage ? c->usage : "see --help");
		else
			snprintf(msg, sizeof(msg), "too many operands: '%s' and after",
				 res.args[c->max_args]);
		rc = usage_error(path, c, msg);
	} else {
		rc = c->run(c, opts, res.nargs, res.args);
	}
	opt_free(c->opts, opts, &res);
	free(opts);
	return rc;
}
