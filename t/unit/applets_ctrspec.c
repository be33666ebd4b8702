/* Unit tests of the translation of Docker's create request
 * (applets/ctrspec.c, ctrspec_parse): what `docker run` sends becomes the
 * guest's process document, and hostile bodies and names are refused
 * with a message.  Also the signal names the stop/kill endpoints take
 * (applets/api_ctr.c). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "applets/api_ctr.h"
#include "applets/ctrspec.h"
#include "lib/err.h"
#include "lib/jsonx.h"
#include "t/tap.h"

static int parse(const char *body, const char *name, struct ctrspec *s, struct err *e)
{
	err_clear(e);
	return ctrspec_parse(body, strlen(body), name, NULL, s, e);
}

static void refused(const char *body, const char *name, const char *msg_part, const char *what)
{
	struct ctrspec s;
	struct err e = ERR_INIT;
	int rc = parse(body, name, &s, &e);

	ok(rc == -EINVAL && strstr(e.msg, msg_part), "%s: refused (%s)", what, e.msg);
	ctrspec_free(&s);
}

static const char *pstr(const struct ctrspec *s, const char *key)
{
	return jsonx_str(s->process, key);
}

int main(void)
{
	struct ctrspec s;
	struct err e = ERR_INIT;
	char *pub;
	json_t *v;

	/* the docker CLI's body for `docker run --rm -it alpine echo hi` (trimmed) */
	is_int(parse("{\"Hostname\":\"\",\"User\":\"\",\"AttachStdin\":true,\"Tty\":true,"
		     "\"OpenStdin\":true,\"StdinOnce\":true,\"Env\":null,\"Cmd\":[\"echo\",\"hi\"],"
		     "\"Image\":\"alpine\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,"
		     "\"Labels\":{},\"HostConfig\":{\"AutoRemove\":true,\"ConsoleSize\":[40,120],"
		     "\"Memory\":0,\"NanoCpus\":0,\"Unknown\":{\"x\":1}},\"Bogus\":[1]}",
		     NULL, &s, &e), 0, "docker run -it's body parses (unknown fields ignored)");
	is_str(s.image, "alpine", "Image");
	ok(s.tty && s.open_stdin && s.stdin_once && s.auto_remove, "Tty, OpenStdin, StdinOnce, AutoRemove");
	ok(s.name == NULL && s.hostname == NULL, "no name, no hostname: ours to pick");
	v = json_object_get(s.process, "cmd");
	ok(json_array_size(v) == 2 && strcmp(json_string_value(json_array_get(v, 1)), "hi") == 0,
	   "Cmd -> process.cmd");
	ok(!json_object_get(s.process, "entrypoint"), "Entrypoint null: the image's stays");
	is_int(json_integer_value(json_object_get(s.process, "rows")), 40, "ConsoleSize rows");
	is_int(json_integer_value(json_object_get(s.process, "cols")), 120, "ConsoleSize cols");
	ok(json_is_true(json_object_get(s.process, "tty")) &&
	   json_is_true(json_object_get(s.process, "stdin")), "process.tty and .stdin");
	is_int(s.cpus, CTRSPEC_DEFAULT_CPUS, "default CPUs");
	is_int(s.memory_mib, CTRSPEC_DEFAULT_MEMORY_MIB, "default memory");
	ok(s.init, "an init unless Init is false");
	ctrspec_free(&s);

	is_int(parse("{\"Image\":\"nginx\",\"Entrypoint\":[\"\"],\"Cmd\":\"sh\",\"Env\":[\"A=1\"],"
		     "\"User\":\"nobody\",\"WorkingDir\":\"/srv\",\"Hostname\":\"web\","
		     "\"Labels\":{\"k\":\"v\"},\"HostConfig\":{\"Memory\":536870912,"
		     "\"NanoCpus\":1500000000,\"Init\":false,\"ReadonlyRootfs\":true}}",
		     "/web1", &s, &e), 0, "a body with every field we read");
	is_str(s.name, "web1", "?name=/web1: the leading / dropped");
	is_str(s.hostname, "web", "Hostname");
	ok(json_is_array(json_object_get(s.process, "entrypoint")) &&
	   json_array_size(json_object_get(s.process, "entrypoint")) == 0,
	   "Entrypoint [\"\"] -> no entrypoint (docker --entrypoint \"\")");
	is_str(json_string_value(json_array_get(json_object_get(s.process, "cmd"), 0)), "sh",
	       "Cmd as a string: a one-element list");
	is_str(pstr(&s, "user"), "nobody", "User");
	is_str(pstr(&s, "workdir"), "/srv", "WorkingDir");
	is_int(s.memory_mib, 512, "Memory 512 MiB");
	is_int(s.cpus, 2, "NanoCpus 1.5 CPUs -> 2");
	ok(!s.init && s.read_only, "Init false, ReadonlyRootfs");
	is_str(jsonx_str(s.labels, "k"), "v", "Labels");
	ctrspec_free(&s);

	refused("{\"Image\":", NULL, "", "truncated JSON");
	refused("[1]", NULL, "not a JSON object", "a list");
	refused("", NULL, "cannot be empty", "an empty body");
	refused("{}", NULL, "no image", "no Image");
	refused("{\"Image\":\"a\"}", "a/b", "Invalid container name", "a name with /");
	refused("{\"Image\":\"a\"}", "..", "Invalid container name", "the name ..");
	refused("{\"Image\":\"a\"}", "a b", "Invalid container name", "a name with a space");
	refused("{\"Image\":\"a\",\"Cmd\":[\"a\\u0000b\"]}", NULL, "NUL", "NUL inside Cmd");
	refused("{\"Image\":\"a\\u0000b\"}", NULL, "NUL", "NUL inside Image");
	refused("{\"Image\":\"a\",\"Cmd\":[1]}", NULL, "Cmd[0]", "a number in Cmd");
	refused("{\"Image\":\"a\",\"Env\":[\"=x\"]}", NULL, "environment", "Env =x");
	refused("{\"Image\":\"a\",\"Labels\":{\"k\":1}}", NULL, "label", "a label that is a number");
	refused("{\"Image\":\"a\",\"HostConfig\":[]}", NULL, "HostConfig", "HostConfig a list");
	refused("{\"Image\":\"a\",\"HostConfig\":{\"Memory\":1024}}", NULL, "Memory", "1 KiB of memory");
	refused("{\"Image\":\"a\",\"HostConfig\":{\"Memory\":-1}}", NULL, "Memory", "negative memory");
	refused("{\"Image\":\"a\",\"HostConfig\":{\"NanoCpus\":99000000000}}", NULL, "CPUs", "99 CPUs");
	refused("{\"Image\":\"a\",\"Tty\":\"yes\"}", NULL, "Tty", "Tty a string");
	refused("{\"Image\":\"a\",\"WorkingDir\":\"rel\"}", NULL, "absolute", "a relative WorkingDir");
	refused("{\"Image\":\"a\",\"Hostname\":\"-x\"}", NULL, "hostname", "an invalid Hostname");

	/* networking (applets/apinet.c) */
	ok(parse("{\"Image\":\"a\",\"ExposedPorts\":{\"80/tcp\":{}},\"HostConfig\":{\"NetworkMode\":"
		 "\"appnet\",\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}],"
		 "\"53/udp\":[{\"HostIp\":\"127.0.0.2\",\"HostPort\":\"\"}]},\"Dns\":[\"10.0.0.1\"]},"
		 "\"NetworkingConfig\":{\"EndpointsConfig\":{\"appnet\":{\"Aliases\":[\"web\"]}}}}",
		 NULL, &s, &e) == 0, "a create with networking parses (%s)", e.msg);
	is_str(jsonx_str(s.net, "mode"), "appnet", "... NetworkMode");
	is_str(json_string_value(json_array_get(json_object_get(s.net, "aliases"), 0)), "web",
	       "... the endpoint's Aliases");
	is_int((int)json_array_size(json_object_get(s.net, "publish")), 2, "... two bindings");
	pub = json_dumps(json_object_get(s.net, "publish"), 0);
	ok(strstr(pub, "\"8080:80/tcp\"") && strstr(pub, "\"127.0.0.2:0:53/udp\""),
	   "... as -p values, \"\" = ephemeral (%s)", pub);
	free(pub);
	ctrspec_free(&s);
	ok(parse("{\"Image\":\"a\",\"NetworkingConfig\":{\"EndpointsConfig\":{\"n1\":{}}}}", NULL,
		 &s, &e) == 0 && !strcmp(jsonx_str(s.net, "mode"), "n1"),
	   "no NetworkMode: the one network EndpointsConfig names");
	ctrspec_free(&s);
	refused("{\"Image\":\"a\",\"HostConfig\":{\"NetworkMode\":\"container:x\"}}", NULL, "VM",
		"NetworkMode container:X");
	refused("{\"Image\":\"a\",\"HostConfig\":{\"NetworkMode\":\"a/b\"}}", NULL, "network name",
		"a network name with a slash");
	refused("{\"Image\":\"a\",\"HostConfig\":{\"PortBindings\":{\"80/sctp\":[]}}}", NULL, "port",
		"sctp");
	refused("{\"Image\":\"a\",\"HostConfig\":{\"PortBindings\":{\"80\":[{\"HostPort\":\"70000\"}]}}}",
		NULL, "PortBindings", "a host port above 65535");
	refused("{\"Image\":\"a\",\"HostConfig\":{\"PortBindings\":{\"80\":[{\"HostIp\":\"::1\"}]}}}",
		NULL, "IPv6", "an IPv6 host address");
	refused("{\"Image\":\"a\",\"HostConfig\":{\"PortBindings\":[]}}", NULL, "PortBindings",
		"PortBindings a list");
	refused("{\"Image\":\"a\",\"HostConfig\":{\"Dns\":\"1.1.1.1\"}}", NULL, "Dns", "Dns a string");
	refused("{\"Image\":\"a\",\"HostConfig\":{\"ExtraHosts\":[\"\"]}}", NULL, "ExtraHosts",
		"an empty ExtraHosts entry");
	refused("{\"Image\":\"a\",\"NetworkingConfig\":{\"EndpointsConfig\":{\"n\":{\"Aliases\":"
		"[\"a b\"]}}}}", NULL, "alias", "an alias with a space");
	refused("{\"Image\":\"a\",\"HostConfig\":{\"PublishAllPorts\":1}}", NULL, "PublishAllPorts",
		"PublishAllPorts a number");

	{
		struct ctrspec_exec x;
		const char *ok_body = "{\"User\":\"\",\"Privileged\":false,\"Tty\":true,"
				      "\"ConsoleSize\":[40,120],\"AttachStdin\":true,"
				      "\"AttachStderr\":true,\"AttachStdout\":true,\"Detach\":false,"
				      "\"DetachKeys\":\"\",\"Env\":null,\"WorkingDir\":\"\","
				      "\"Cmd\":[\"sh\",\"-c\",\"id\"]}";
		err_clear(&e);
		is_int(ctrspec_exec_parse(ok_body, strlen(ok_body), &x, &e), 0,
		       "docker exec -it's body parses");
		ok(x.tty && x.in && x.out && x.err && x.rows == 40 && x.cols == 120 &&
		   json_array_size(x.cmd) == 3 && json_array_size(x.env) == 0 && !x.user &&
		   !x.workdir, "exec: tty, attach flags, console size, cmd, no env/user/workdir");
		ctrspec_exec_free(&x);
		static const char *const bad[] = {
			"{}", "{\"Cmd\":[]}", "{\"Cmd\":[1]}", "{\"Cmd\":[\"a\\u0000b\"]}",
			"{\"Cmd\":[\"a\"],\"WorkingDir\":\"rel\"}", "{\"Cmd\":[\"a\"],\"Env\":[\"=1\"]}",
			"{\"Cmd\":[\"a\"],\"Tty\":1}", "[\"a\"]", "{\"Cmd\":",
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			err_clear(&e);
			ok(ctrspec_exec_parse(bad[i], strlen(bad[i]), &x, &e) == -EINVAL && e.msg[0],
			   "exec body refused: %s (%s)", bad[i], e.msg);
			ctrspec_exec_free(&x);
		}
	}

	/* our CLI's extension object and GroupAdd */
	{
		const char *body =
			"{\"Image\":\"bb\",\"HostConfig\":{\"GroupAdd\":[\"wheel\"]},"
			"\"ContainerVM\":{\"Kernel\":\"/k\",\"KernelArgs\":[\"loglevel=7\"],"
			"\"Publish\":[\"0.0.0.0:8080:80\"],\"NoDns\":true,\"Tmpfs\":[\"/run\"],"
			"\"Volumes\":[\"/data\"],\"GuestTest\":\"flood\"}}";
		int rc = parse(body, NULL, &s, &e);
		ok(rc == 0, "ContainerVM parses (%s)", e.msg);
		is_str(s.kernel ? s.kernel : "", "/k", "ContainerVM.Kernel");
		is_str(json_string_value(json_array_get(s.kernel_args, 0)), "loglevel=7",
		       "ContainerVM.KernelArgs");
		is_str(json_string_value(json_array_get(json_object_get(s.net, "publish"), 0)),
		       "0.0.0.0:8080:80", "ContainerVM.Publish keeps an explicit 0.0.0.0");
		ok(json_is_true(json_object_get(s.net, "no_dns")), "ContainerVM.NoDns");
		is_int((int)s.mounts.n, 2, "ContainerVM.Tmpfs and Volumes: two mounts");
		is_str(json_string_value(json_array_get(json_object_get(s.process, "groups"), 0)),
		       "wheel", "HostConfig.GroupAdd: the process's groups");
		is_str(s.guest_test ? s.guest_test : "", "flood", "ContainerVM.GuestTest");
		ctrspec_free(&s);
	}
	refused("{\"Image\":\"bb\",\"ContainerVM\":[]}", NULL, "ContainerVM must be an object",
		"ContainerVM not an object");
	refused("{\"Image\":\"bb\",\"ContainerVM\":{\"Kernel\":\"rel/k\"}}", NULL, "absolute",
		"a relative kernel path");
	refused("{\"Image\":\"bb\",\"ContainerVM\":{\"Publish\":[\"99999:80\"]}}", NULL,
		"ContainerVM.Publish", "a port out of range");
	refused("{\"Image\":\"bb\",\"ContainerVM\":{\"Mounts\":[\"type=nope,target=/x\"]}}", NULL,
		"ContainerVM.Mounts", "a bad --mount");
	refused("{\"Image\":\"bb\",\"ContainerVM\":{\"KernelArgs\":[1]}}", NULL, "KernelArgs",
		"KernelArgs of numbers");

	is_int(api_signal_parse("SIGTERM"), SIGTERM, "signal SIGTERM");
	is_int(api_signal_parse("kill"), SIGKILL, "signal kill");
	is_int(api_signal_parse("15"), 15, "signal 15");
	is_int(api_signal_parse("0"), 0, "signal 0 is not one");
	is_int(api_signal_parse("65"), 0, "signal 65 is not one");
	is_int(api_signal_parse("SIGNOPE"), 0, "an unknown name");
	is_int(api_signal_parse("9x"), 0, "a number with junk");
	return done_testing();
}
