/* Resolution of the state directories (see lib/paths.h); the platform
 * defaults are in lib/paths_<os>.c. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/paths.h"

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h && *h == '/')
		return h;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir && *pw->pw_dir == '/' ? pw->pw_dir : NULL;
}

static int from_env(struct buf *out, const char *var, struct err *e)
{
	const char *v = getenv(var);

	if (!v || !*v)
		return 0;
	if (*v != '/')
		return err_set(e, -EINVAL, "%s must be an absolute path, not '%s'", var, v);
	return buf_puts(out, v) < 0 ? err_set(e, -ENAMETOOLONG, "%s too long", var) : 1;
}

int paths_data_dir(struct buf *out, struct err *e)
{
	int rc = from_env(out, "CONTAINER_DATA_DIR", e);
	const char *home = home_dir();

	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (!home && geteuid() != 0)
		return err_set(e, -ENOENT, "cannot find the home directory: set HOME or CONTAINER_DATA_DIR");
	return paths__data_default(out, home, e);
}

int paths_run_dir(struct buf *out, struct err *e)
{
	struct buf data = BUF_INIT;
	int rc = from_env(out, "CONTAINER_RUN_DIR", e);

	if (rc != 0)
		return rc < 0 ? rc : 0;
	rc = paths_data_dir(&data, e);
	if (rc == 0)
		rc = paths__run_default(out, buf_str(&data), e);
	buf_free(&data);
	return rc;
}

int paths_docker_config_dir(struct buf *out, struct err *e)
{
	int rc = from_env(out, "DOCKER_CONFIG", e);
	const char *home = home_dir();

	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (!home)
		return err_set(e, -ENOENT, "cannot find the home directory: set HOME or DOCKER_CONFIG");
	buf_printf(out, "%s/.docker", home);
	return 0;
}
