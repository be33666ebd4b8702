/* `container system install | uninstall` (see applets/login.h): the
 * service files' text (pure, shared by both OSes and tested on Linux) and
 * the commands; the per-OS steps are applets/login_linux.c and
 * applets/login_darwin.c. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/applets.h"
#include "applets/login.h"
#include "applets/system.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/paths.h"

/* systemd's ExecStart/Environment quoting (systemd.syntax(7)): a
 * double-quoted word with \ and " escaped and % doubled (specifiers, in
 * both); $ doubled in ExecStart only, the one setting that expands
 * variables (systemd.service(5) "Command lines"; Environment= takes $
 * literally, systemd.exec(5)). */
static void sd_quote(struct buf *out, const char *s, bool exec)
{
	buf_putc(out, '"');
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_putc(out, '\\');
		if (*s == '%' || (exec && *s == '$'))
			buf_putc(out, *s);
		if (*s == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *s);
	}
	buf_putc(out, '"');
}

void login_unit_text(struct buf *out, const char *exe, const char *const *env)
{
	buf_puts(out, "# Written by `container system install`; removed by `container system uninstall`.\n"
		      "[Unit]\n"
		      "Description=container API server (Docker Engine API; each container in its own VM)\n\n"
		      "[Service]\nType=simple\nExecStart=");
	sd_quote(out, exe, true);
	buf_puts(out, " apiserver --foreground --log-file\n");
	for (size_t i = 0; env && env[i]; i++) {
		buf_puts(out, "Environment=");
		sd_quote(out, env[i], false);
		buf_putc(out, '\n');
	}
	buf_puts(out, "Restart=on-failure\nRestartSec=2\n"
		      "# the containers' runtimes and VMs outlive a stop of the server\n"
		      "KillMode=process\n\n"
		      "[Install]\nWantedBy=default.target\n");
}

static void xml_text(struct buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_puts(out, "&amp;"); break;
		case '<': buf_puts(out, "&lt;"); break;
		case '>': buf_puts(out, "&gt;"); break;
		case '"': buf_puts(out, "&quot;"); break;
		default: buf_putc(out, *s); break;
		}
	}
}

static void plist_string(struct buf *out, const char *indent, const char *s)
{
	buf_printf(out, "%s<string>", indent);
	xml_text(out, s);
	buf_puts(out, "</string>\n");
}

void login_plist_text(struct buf *out, const char *exe, const char *log_path,
		      const char *const *env)
{
	buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
		      "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
		      "<plist version=\"1.0\">\n<dict>\n"
		      "\t<key>Label</key>\n");
	plist_string(out, "\t", LOGIN_LABEL);
	buf_puts(out, "\t<key>ProgramArguments</key>\n\t<array>\n");
	plist_string(out, "\t\t", exe);
	plist_string(out, "\t\t", "apiserver");
	plist_string(out, "\t\t", "--foreground");
	plist_string(out, "\t\t", "--log-file");
	buf_puts(out, "\t</array>\n");
	if (env && env[0]) {
		buf_puts(out, "\t<key>EnvironmentVariables</key>\n\t<dict>\n");
		for (size_t i = 0; env[i]; i++) {
			const char *eq = strchr(env[i], '=');
			_cleanup_buf_ struct buf k = BUF_INIT;
			if (!eq)
				continue;
			buf_append(&k, env[i], (size_t)(eq - env[i]));
			buf_puts(out, "\t\t<key>");
			xml_text(out, buf_str(&k));
			buf_puts(out, "</key>\n");
			plist_string(out, "\t\t", eq + 1);
		}
		buf_puts(out, "\t</dict>\n");
	}
	buf_puts(out, "\t<key>RunAtLoad</key>\n\t<true/>\n"
		      "\t<key>KeepAlive</key>\n\t<dict>\n\t\t<key>SuccessfulExit</key>\n\t\t<false/>\n\t</dict>\n"
		      "\t<key>AbandonProcessGroup</key>\n\t<true/>\n"
		      "\t<key>StandardErrorPath</key>\n");
	plist_string(out, "\t", log_path);
	buf_puts(out, "</dict>\n</plist>\n");
}

/* The variables that place state elsewhere are passed on, so the service
 * serves what this shell's commands see. */
#define KEEP_N 2

static const char *const *env_to_keep(struct buf text[KEEP_N], const char *store[KEEP_N + 1])
{
	static const char *const names[KEEP_N] = { "CONTAINER_DATA_DIR", "CONTAINER_RUN_DIR" };
	size_t n = 0;

	for (size_t i = 0; i < KEEP_N; i++) {
		const char *v = getenv(names[i]);
		if (v && *v) {
			buf_printf(&text[n], "%s=%s", names[i], v);
			store[n] = buf_str(&text[n]);
			n++;
		}
	}
	store[n] = NULL;
	return store;
}

struct install_cli {
	int print;
};

static const struct opt install_optv[] = {
	OPT_FLAG(0, "print", struct install_cli, print, "Print the file instead of writing it"),
	OPT_END,
};

static int install_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct install_cli *a = o;
	_cleanup_buf_ struct buf path = BUF_INIT, exe = BUF_INIT;
	struct buf kept[KEEP_N] = { BUF_INIT, BUF_INIT };
	struct err e = ERR_INIT;
	const char *store[KEEP_N + 1];
	int rc = EXIT_OK;

	(void)c;
	(void)argc;
	(void)argv;
	if (login__path(&path, &e) < 0 || paths_self_exe(&exe, &e) < 0 ||
	    login__install(buf_str(&path), buf_str(&exe), env_to_keep(kept, store), a->print,
			   &e) < 0) {
		fprintf(stderr, "container system install: %s\n", e.msg);
		rc = EXIT_FAIL;
	}
	for (size_t i = 0; i < KEEP_N; i++)
		buf_free(&kept[i]);
	return rc;
}

static int uninstall_cmd(const struct cmd *c, void *o, int argc, char **argv)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	struct err e = ERR_INIT;

	(void)c;
	(void)o;
	(void)argc;
	(void)argv;
	if (login__path(&path, &e) < 0 || login__uninstall(buf_str(&path), &e) < 0) {
		fprintf(stderr, "container system uninstall: %s\n", e.msg);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

const struct cmd cmd_system_install = {
	.name = "install",
	.summary = "Start the API server at login (systemd user unit; macOS LaunchAgent)",
	.usage = "[--print]",
	.help = "Linux: writes ~/.config/systemd/user/" LOGIN_UNIT " and prints the\n"
		"systemctl line that enables it (nothing is run for you).  macOS: writes\n"
		"~/Library/LaunchAgents/" LOGIN_LABEL ".plist and loads it with launchctl.\n"
		"The service runs '<this binary> apiserver --foreground --log-file';\n"
		"CONTAINER_DATA_DIR and CONTAINER_RUN_DIR, when set, are passed on.",
	.opts = install_optv,
	.opts_size = sizeof(struct install_cli),
	.max_args = 0,
	.run = install_cmd,
};

const struct cmd cmd_system_uninstall = {
	.name = "uninstall",
	.summary = "Stop starting the API server at login",
	.max_args = 0,
	.run = uninstall_cmd,
};
