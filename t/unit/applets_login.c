/* The service files of `container system install` (applets/login.c):
 * systemd's quoting and the launchd plist's XML escaping, with hostile
 * paths (the macOS side cannot run here, its text is checked here). */
#include <string.h>

#include "applets/login.h"
#include "lib/buf.h"
#include "t/tap.h"

int main(void)
{
	struct buf b = BUF_INIT;
	const char *env[] = { "CONTAINER_DATA_DIR=/x/$HOME/50%", NULL };

	login_unit_text(&b, "/opt/my \"dir\"\\bin/$x%/container", env);
	ok(strstr(buf_str(&b), "\nExecStart=\"/opt/my \\\"dir\\\"\\\\bin/$$x%%/container\" apiserver "
			       "--foreground --log-file\n") != NULL,
	   "ExecStart: quotes and backslashes escaped, $ and %% doubled");
	/* systemd.exec(5): Environment= expands specifiers, not variables */
	ok(strstr(buf_str(&b), "\nEnvironment=\"CONTAINER_DATA_DIR=/x/$HOME/50%%\"\n") != NULL,
	   "Environment: %% doubled, $ kept as it is");
	ok(strstr(buf_str(&b), "\nKillMode=process\n") && strstr(buf_str(&b), "\nWantedBy=default.target\n"),
	   "KillMode and WantedBy");
	buf_reset(&b);
	login_unit_text(&b, "/a\nExecStartPre=/bin/evil", NULL);
	ok(strstr(buf_str(&b), "\nExecStartPre") == NULL, "a newline in the path cannot add a line");

	buf_reset(&b);
	login_plist_text(&b, "/Users/a&b/<c>/container", "/Users/a&b/log", env);
	ok(strstr(buf_str(&b), "<string>/Users/a&amp;b/&lt;c&gt;/container</string>") != NULL,
	   "plist: the path XML-escaped");
	ok(strstr(buf_str(&b), "<string>--foreground</string>") &&
	   strstr(buf_str(&b), "<string>--log-file</string>"), "plist: --foreground --log-file");
	ok(strstr(buf_str(&b), "<key>CONTAINER_DATA_DIR</key>\n\t\t<string>/x/$HOME/50%</string>") != NULL,
	   "plist: the environment as a dict (no shell: nothing to double)");
	ok(strstr(buf_str(&b), "<key>AbandonProcessGroup</key>\n\t<true/>") != NULL,
	   "plist: containers outlive the job");
	ok(strstr(buf_str(&b), "<key>Label</key>\n\t<string>" LOGIN_LABEL "</string>") != NULL,
	   "plist: the label");
	buf_free(&b);
	return done_testing();
}
