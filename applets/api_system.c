/* System endpoints (see applets/api_system.h): what `docker version`,
 * `docker info` and every client's first request (_ping) read, in the
 * shapes of Docker Engine API 1.45.  Counts are read from disk on each
 * call (containers' state files, the images index): cheap at this scale
 * and never stale. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "applets/api_http.h"
#include "applets/api_router.h"
#include "applets/api_system.h"
#include "applets/applets.h"
#include "applets/bundle.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "oci/digest.h"
#include "oci/images.h"

/* Docker's GOARCH names for /version; /info's Architecture is uname's. */
static const char *go_arch(const char *machine)
{
	if (strcmp(machine, "x86_64") == 0)
		return "amd64";
	if (strcmp(machine, "aarch64") == 0 || strcmp(machine, "arm64") == 0)
		return "arm64";
	return machine;
}

static void rfc3339(time_t t, char *out, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void api_system_ping(struct api_call *c)
{
	api_reply_text(c, 200, API_PING_HEADERS, "OK");
}

void api_system_version(struct api_call *c)
{
	struct utsname u;
	char built[48];
	json_t *comp;

	/* Docker's clients parse BuildTime as RFC 3339. */
	snprintf(built, sizeof(built), "%sT00:00:00.000000000+00:00", container_build_date);

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	comp = json_pack("[{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}}]", "Name", "Engine",
			 "Version", container_version, "Details", "ApiVersion", API_VERSION,
			 "MinAPIVersion", API_MIN_VERSION, "GitCommit", container_commit, "Os",
			 "linux", "Arch", go_arch(u.machine), "KernelVersion", u.release,
			 "BuildTime", built, "Experimental", "false");
	api_reply_json(c, 200,
		       json_pack("{s:{s:s}, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
				 "Platform", "Name", "container", "Components", comp, "Version",
				 container_version, "ApiVersion", API_VERSION, "MinAPIVersion",
				 API_MIN_VERSION, "GitCommit", container_commit, "GoVersion", "",
				 "Os", "linux", "Arch", go_arch(u.machine), "KernelVersion",
				 u.release, "BuildTime", built));
}

struct counts {
	long containers, running, paused, stopped, images;
};

/* Count bundles by state; unreadable ones count as stopped. */
static void count_containers(struct counts *n)
{
	_cleanup_buf_ struct buf root = BUF_INIT;
	struct bundle_state st;
	struct dirent *d;
	DIR *dir;

	if (bundle_root(&root, NULL) < 0 || !(dir = opendir(buf_str(&root))))
		return;
	while ((d = readdir(dir))) {
		if (strlen(d->d_name) != BUNDLE_ID_LEN ||
		    strspn(d->d_name, "0123456789abcdef") != BUNDLE_ID_LEN)
			continue;
		n->containers++;
		if (bundle_state_load(d->d_name, &st, NULL) == 0 && st.status == BUNDLE_RUNNING)
			n->running++;
		else
			n->stopped++;
	}
	closedir(dir);
}

static long count_images(const char *data)
{
	struct images *im = NULL;
	long n;

	if (images_open(data, 0, &im, NULL) < 0)
		return 0;
	n = (long)images_count(im);
	images_close(im);
	return n;
}

/* A stable engine ID (Docker prints it): derived from the data directory,
 * so one user's server keeps its ID across restarts. */
static void engine_id(const char *data, char out[37])
{
	struct digest d;
	const char *h;

	sha256_digest(data, strlen(data), &d);
	h = digest_hex(&d);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* Add part's fields to *v; either being NULL (a failed json_pack) makes
 * *v NULL. */
static void merge(json_t **v, json_t *part)
{
	if (*v && part && json_object_update(*v, part) == 0) {
		json_decref(part);
		return;
	}
	json_decref(*v);
	json_decref(part);
	*v = NULL;
}

void api_system_info(struct api_call *c)
{
	struct counts n = { 0 };
	struct utsname u;
	char host[256] = "", id[37], now[32];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES);
	long psz = sysconf(_SC_PAGESIZE);
	json_t *v;

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	gethostname(host, sizeof(host) - 1);
	count_containers(&n);
	n.images = count_images(c->ctx->data_dir);
	engine_id(c->ctx->data_dir, id);
	rfc3339(time(NULL), now, sizeof(now));
	v = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:[[s,s]], s:o, s:b, s:b, s:b, s:b}",
		      "ID", id, "Containers", (json_int_t)n.containers, "ContainersRunning",
		      (json_int_t)n.running, "ContainersPaused", (json_int_t)n.paused,
		      "ContainersStopped", (json_int_t)n.stopped, "Images", (json_int_t)n.images,
		      "Driver", "ext4-snapshot", "DriverStatus", "Backing Filesystem", "ext4",
		      "Plugins",
		      json_pack("{s:[s], s:[s], s:[], s:[s]}", "Volume", "local", "Network", "bridge",
				"Authorization", "Log", "json-file"),
		      "MemoryLimit", 1, "SwapLimit", 0, "CpuCfsPeriod", 0, "CpuCfsQuota", 0);
	merge(&v, json_pack("{s:b, s:b, s:b, s:b, s:I, s:I, s:s, s:s, s:s}",
					    "IPv4Forwarding", 1, "Debug", 0, "OomKillDisable", 0,
					    "ExperimentalBuild", 0, "NFd", (json_int_t)0,
					    "NGoroutines", (json_int_t)0, "SystemTime", now, "LoggingDriver",
					    "json-file", "CgroupDriver", "none"));
	merge(&v, json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}",
					    "CgroupVersion", "2", "NEventsListener", (json_int_t)0,
					    "KernelVersion", u.release, "OperatingSystem",
					    "container (VM per container)", "OSVersion", container_version,
					    "OSType", "linux", "Architecture", u.machine,
					    "IndexServerAddress", "https://index.docker.io/v1/", "NCPU",
					    (json_int_t)(ncpu > 0 ? ncpu : 1), "MemTotal",
					    (json_int_t)(pages > 0 && psz > 0 ? (long long)pages * psz : 0)));
	merge(&v, json_pack("{s:{s:[], s:{}, s:[]}, s:s, s:s, s:[], s:s, s:s}", "RegistryConfig",
			    "InsecureRegistryCIDRs", "IndexConfigs", "Mirrors", "DockerRootDir",
			    c->ctx->data_dir, "Name", host, "Labels", "ServerVersion",
			    container_version, "DefaultRuntime", "container"));
	merge(&v, json_pack("{s:{s:{s:s}}, s:{s:s, s:s, s:s, s:b, s:n}, s:b, s:s, "
					    "s:s, s:[], s:[]}",
					    "Runtimes", "container", "path", "container-runtime",
					    "Swarm", "NodeID", "", "NodeAddr", "", "LocalNodeState",
					    "inactive", "ControlAvailable", 0, "RemoteManagers",
					    "LiveRestoreEnabled", 1, "Isolation", "",
					    "InitBinary", "", "SecurityOptions", "Warnings"));
	if (!v) {
		/* json_pack refuses non-UTF-8 strings (a host name, a path). */
		api_reply_error(c, 500, "system information is not valid UTF-8");
		return;
	}
	api_reply_json(c, 200, v);
}

void api_system_status(struct api_call *c)
{
	char started[32];

	rfc3339(c->ctx->started, started, sizeof(started));
	api_reply_json(c, 200,
		       json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "Status",
				 "running", "Pid", (json_int_t)c->ctx->pid, "Socket",
				 c->ctx->socket_path, "ApiVersion", API_VERSION, "MinAPIVersion",
				 API_MIN_VERSION, "Version", container_version, "DataDir",
				 c->ctx->data_dir, "StartedAt", started, "Requests",
				 (json_int_t)c->ctx->requests, "Connections",
				 (json_int_t)c->ctx->connections));
}
