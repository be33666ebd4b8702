/* State directories: environment overrides win, relative overrides are
 * refused, defaults follow the platform rules. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/paths.h"
#include "t/tap.h"

int main(void)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	setenv("CONTAINER_DATA_DIR", "/tmp/d", 1);
	setenv("CONTAINER_RUN_DIR", "/tmp/r", 1);
	is_int(paths_data_dir(&b, &e), 0, "data from env");
	is_str(buf_str(&b), "/tmp/d", "CONTAINER_DATA_DIR wins");
	buf_reset(&b);
	is_int(paths_run_dir(&b, &e), 0, "run from env");
	is_str(buf_str(&b), "/tmp/r", "CONTAINER_RUN_DIR wins");
	buf_reset(&b);
	setenv("CONTAINER_DATA_DIR", "rel/dir", 1);
	is_int(paths_data_dir(&b, &e), -EINVAL, "relative override refused");
	is_str(e.msg, "CONTAINER_DATA_DIR must be an absolute path, not 'rel/dir'", "message");
	unsetenv("CONTAINER_DATA_DIR");
	unsetenv("CONTAINER_RUN_DIR");
	setenv("HOME", "/home/u", 1);
	setenv("XDG_DATA_HOME", "/x/data", 1);
	setenv("XDG_RUNTIME_DIR", "/x/run", 1);
	buf_reset(&b);
	is_int(paths_data_dir(&b, &e), 0, "default data dir");
	is_str(buf_str(&b), geteuid() == 0 ? "/var/lib/container" : "/x/data/container",
	       "data default for this uid");
	buf_reset(&b);
	is_int(paths_run_dir(&b, &e), 0, "default run dir");
	is_str(buf_str(&b), geteuid() == 0 ? "/run/container" : "/x/run/container",
	       "run default for this uid");
	buf_reset(&b);
	unsetenv("DOCKER_CONFIG");
	is_int(paths_docker_config_dir(&b, &e), 0, "docker config dir");
	is_str(buf_str(&b), "/home/u/.docker", "~/.docker");
	buf_reset(&b);
	setenv("DOCKER_CONFIG", "/cfg", 1);
	paths_docker_config_dir(&b, &e);
	is_str(buf_str(&b), "/cfg", "DOCKER_CONFIG wins");
	buf_free(&b);
	return done_testing();
}
