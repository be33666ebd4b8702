/* Unit tests for initrd/guest.c's boot configuration: the kernel command
 * line (quoting as the kernel does it, base64 config, clock, unknown
 * names) and the JSON document (defaults, types, rlimits, hostname). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "initrd/guest.h"
#include "lib/err.h"
#include "t/tap.h"

static int parse(const char *s, struct guest_cmdline *c, struct err *e)
{
	err_clear(e);
	return guest_cmdline_parse(s, strlen(s), c, e);
}

static void test_cmdline(void)
{
	struct guest_cmdline c;
	struct err e = ERR_INIT;

	is_int(parse("console=ttyS0 reboot=t panic=-1 quiet", &c, &e), 0, "no container.* at all");
	ok(!c.agent && !c.config && !c.has_clock && !c.debug && !c.test && !c.unknown,
	   "nothing set");
	guest_cmdline_free(&c);

	/* {"hostname":"abc"} */
	is_int(parse("console=ttyS0 container.config=eyJob3N0bmFtZSI6ImFiYyJ9 "
		     "container.agent=vsock:1024 container.clock=1700000000.5 container.debug\n",
		     &c, &e), 0, "typical line: %s", e.msg);
	is_str(c.config, "{\"hostname\":\"abc\"}", "config decoded from base64");
	is_int(c.config_len, 18, "config length");
	is_str(c.agent, "vsock:1024", "agent");
	ok(c.has_clock && c.clock_ns == 1700000000500000000ll, "clock with fraction");
	ok(c.debug, "debug flag without value");
	guest_cmdline_free(&c);

	/* unpadded URL alphabet: {"a":"??>"} has '+'/'/' in standard form */
	is_int(parse("container.config=eyJhIjoiPz8-In0", &c, &e), 0, "URL alphabet, no padding");
	is_str(c.config, "{\"a\":\"?" "?>\"}", "URL-alphabet config decoded");
	guest_cmdline_free(&c);
	is_int(parse("container.config=eyJhIjoiPz8+In0=", &c, &e), 0, "standard alphabet, padded");
	is_str(c.config, "{\"a\":\"?" "?>\"}", "standard config decoded");
	guest_cmdline_free(&c);

	is_int(parse("container.test=\"garbage,flood\" x=\"a b\" container.debug=0", &c, &e), 0,
	       "quoted values");
	is_str(c.test, "garbage,flood", "quotes dropped from the value");
	ok(!c.debug, "debug=0");
	guest_cmdline_free(&c);

	is_int(parse("\"container.agent=virtio:my port\" rest", &c, &e), 0, "quoted whole argument");
	is_str(c.agent, "virtio:my port", "whole-argument quotes dropped, space kept");
	guest_cmdline_free(&c);

	is_int(parse("container.agent=none -- container.agent=vsock", &c, &e), 0, "stops at --");
	is_str(c.agent, "none", "arguments after -- are init's, not ours");
	guest_cmdline_free(&c);

	is_int(parse("container.future=1 container.other container.agent=none", &c, &e), 0,
	       "unknown names are not fatal");
	is_str(c.unknown, "container.future container.other", "unknown names collected");
	guest_cmdline_free(&c);

	is_int(parse("container.clock=1700000000.123456789999", &c, &e), 0, "long fraction");
	ok(c.clock_ns == 1700000000123456789ll, "fraction cut to ns");
	guest_cmdline_free(&c);
	is_int(parse("container.clock=0", &c, &e), 0, "clock 0");
	ok(c.has_clock && c.clock_ns == 0, "epoch");
	guest_cmdline_free(&c);

	is_int(parse("container.clock=abc", &c, &e), -EINVAL, "non-numeric clock refused");
	is_int(parse("container.clock=12.", &c, &e), -EINVAL, "clock with empty fraction");
	is_int(parse("container.clock=99999999999999999999", &c, &e), -EINVAL, "clock overflow");
	is_int(parse("container.clock=-5", &c, &e), -EINVAL, "negative clock");
	is_int(parse("container.config=%%%", &c, &e), -EINVAL, "config not base64");
	is_int(parse("container.config=eR", &c, &e), -EINVAL, "base64 with non-zero tail bits");
	is_int(parse("container.config=e", &c, &e), -EINVAL, "base64 of one char");
	is_int(parse("container.agent=", &c, &e), -EINVAL, "empty agent");
	is_int(parse("container.agent", &c, &e), -EINVAL, "agent without value");

	/* embedded NUL: the length is what counts */
	is_int(guest_cmdline_parse("container.debug\0container.agent=x", 34, &c, &e), 0,
	       "NUL in the input ends it");
	ok(c.debug && !c.agent, "nothing after the NUL");
	guest_cmdline_free(&c);
	is_int(parse("", &c, &e), 0, "empty command line");
	guest_cmdline_free(&c);
	is_int(parse("   \n", &c, &e), 0, "blank command line");
	guest_cmdline_free(&c);
}

static int cfg(const char *json, struct guest_config *c, struct err *e)
{
	err_clear(e);
	return guest_config_parse(json, strlen(json), c, e);
}

static void test_config(void)
{
	struct guest_config c;
	struct err e = ERR_INIT;

	is_int(cfg("{}", &c, &e), 0, "empty document");
	is_str(c.hostname, "container", "default hostname");
	is_str(c.image_dev, "/dev/vda", "default image disk");
	is_str(c.rw_dev, "/dev/vdb", "default writable disk");
	is_str(c.fstype, "ext4", "default fs type");
	ok(c.init && !c.read_only && !c.has_clock && !c.proc.entrypoint && !c.proc.cmd,
	   "default flags");
	guest_config_free(&c);

	static const char full[] =
		"{\"hostname\":\"web-1.example\",\"clock_ns\":1700000000000000001,"
		"\"read_only\":true,\"hosts\":[\"10.0.0.5 db\"],"
		"\"dns\":{\"nameservers\":[\"10.0.0.1\",\"8.8.8.8\"],\"search\":[\"lan\"]},"
		"\"init\":false,\"test\":\"flood\",\"future_field\":{\"x\":1},"
		"\"image\":{\"Entrypoint\":[\"/e\"],\"Cmd\":null,\"Env\":[\"A=1\"],"
		"\"User\":\"app\",\"WorkingDir\":\"/w\",\"Labels\":{\"l\":\"v\"}},"
		"\"process\":{\"entrypoint\":[],\"cmd\":[\"ls\",\"-l\"],\"env\":[\"B=2\"],"
		"\"user\":\"1000:1000\",\"groups\":[\"audio\"],\"workdir\":\"/x\",\"tty\":true,"
		"\"stdin\":true,\"rows\":50,\"cols\":132,"
		"\"rlimits\":[{\"type\":\"nofile\",\"soft\":1024,\"hard\":4096},"
		"{\"type\":\"RLIMIT_CORE\",\"soft\":-1,\"hard\":-1}]}}";
	is_int(cfg(full, &c, &e), 0, "full document: %s", e.msg);
	is_str(c.hostname, "web-1.example", "hostname");
	ok(c.has_clock && c.clock_ns == 1700000000000000001ll, "clock_ns");
	ok(c.read_only && !c.init, "read_only, init false");
	is_str(c.hosts[0], "10.0.0.5 db", "hosts");
	ok(guest_strv_len(c.dns_servers) == 2 && !strcmp(c.dns_search[0], "lan") && !c.dns_options,
	   "dns");
	is_str(c.test, "flood", "test mode");
	ok(c.proc.img_entrypoint && !strcmp(c.proc.img_entrypoint[0], "/e") && !c.proc.img_cmd,
	   "image Entrypoint; null Cmd is absent");
	is_str(c.proc.img_user, "app", "image User");
	is_str(c.proc.img_workdir, "/w", "image WorkingDir");
	ok(c.proc.entrypoint && !c.proc.entrypoint[0], "entrypoint [] is given-but-empty");
	ok(guest_strv_len(c.proc.cmd) == 2, "cmd");
	ok(c.proc.tty && c.proc.open_stdin && c.proc.rows == 50 && c.proc.cols == 132, "tty");
	is_str(c.proc.user, "1000:1000", "user");
	is_str(c.proc.groups[0], "audio", "groups");
	is_int(c.proc.n_rlimits, 2, "two rlimits");
	ok(c.proc.rlimits[0].resource == 7 && c.proc.rlimits[0].soft == 1024 &&
	   c.proc.rlimits[0].hard == 4096, "nofile = 7 (Linux numbering)");
	ok(c.proc.rlimits[1].resource == 4 && c.proc.rlimits[1].soft == UINT64_MAX,
	   "core unlimited (-1)");
	guest_config_free(&c);

	is_int(cfg("[]", &c, &e), -EINVAL, "not an object");
	is_int(cfg("{", &c, &e), -EBADMSG, "not JSON");
	is_int(cfg("{\"hostname\":5}", &c, &e), -EINVAL, "hostname not a string");
	is_int(cfg("{\"hostname\":\"a b\"}", &c, &e), -EINVAL, "hostname with a space");
	is_int(cfg("{\"hostname\":\"-a\"}", &c, &e), -EINVAL, "hostname starting with -");
	is_int(cfg("{\"hostname\":\"a\\u0000b\"}", &c, &e), -EBADMSG, "NUL in a string refused");
	is_int(cfg("{\"hostname\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		   &c, &e), -EINVAL, "hostname of 65 bytes");
	is_int(cfg("{\"process\":{\"cmd\":[\"a\",1]}}", &c, &e), -EINVAL, "cmd with a number");
	is_int(cfg("{\"process\":{\"cmd\":\"ls\"}}", &c, &e), -EINVAL, "cmd as a string");
	is_int(cfg("{\"process\":{\"rows\":70000}}", &c, &e), -EINVAL, "rows out of range");
	is_int(cfg("{\"process\":{\"tty\":1}}", &c, &e), -EINVAL, "tty not a boolean");
	is_int(cfg("{\"process\":{\"rlimits\":[{\"type\":\"bogus\"}]}}", &c, &e), -EINVAL,
	       "unknown rlimit");
	is_int(cfg("{\"process\":{\"rlimits\":[{\"type\":\"nofile\",\"soft\":10,\"hard\":5}]}}",
		   &c, &e), -EINVAL, "soft above hard");
	is_int(cfg("{\"clock_ns\":-1}", &c, &e), -EINVAL, "negative clock");
	is_int(cfg("{\"dns\":[]}", &c, &e), -EINVAL, "dns not an object");
	is_int(cfg("{\"a\":1,\"a\":2}", &c, &e), -EBADMSG, "duplicate keys refused");
	is_int(cfg("{\"image\":\"x\"}", &c, &e), -EINVAL, "image not an object");

	is_int(cfg("{\"interfaces\":[{\"name\":\"eth0\",\"address\":\"10.0.2.15/24\","
		   "\"gateway\":\"10.0.2.2\",\"mtu\":1400},{\"name\":\"eth1\","
		   "\"address\":\"192.168.1.2/32\",\"mac\":\"02:42:C0:a8:41:03\"}]}", &c, &e), 0,
	       "interfaces: %s", e.msg);
	ok(c.n_ifaces == 2 && !strcmp(c.ifaces[0].name, "eth0") && c.ifaces[0].addr[0] == 10 &&
	   c.ifaces[0].addr[3] == 15 && c.ifaces[0].prefix == 24 && c.ifaces[0].has_gateway &&
	   c.ifaces[0].gateway[3] == 2 && c.ifaces[0].mtu == 1400, "eth0 parsed");
	ok(!c.ifaces[1].has_gateway && c.ifaces[1].prefix == 32 && c.ifaces[1].mtu == 0,
	   "eth1 without gateway");
	ok(!c.ifaces[0].has_mac && c.ifaces[1].has_mac && c.ifaces[1].mac[0] == 2 &&
	   c.ifaces[1].mac[2] == 0xc0 && c.ifaces[1].mac[5] == 3, "eth1's MAC parsed");
	guest_config_free(&c);
	static const char *const bad_if[] = {
		"{\"interfaces\":[{\"address\":\"10.0.0.1/8\"}]}",
		"{\"interfaces\":[{\"name\":\"eth0\",\"address\":\"10.0.0.1\"}]}",
		"{\"interfaces\":[{\"name\":\"eth0\",\"address\":\"10.0.0.256/8\"}]}",
		"{\"interfaces\":[{\"name\":\"eth0\",\"address\":\"10.0.0.1/33\"}]}",
		"{\"interfaces\":[{\"name\":\"eth0\",\"address\":\"10.0.0.1x/8\"}]}",
		"{\"interfaces\":[{\"name\":\"eth0\",\"address\":\"10.0.0.1/8\",\"gateway\":\"x\"}]}",
		"{\"interfaces\":[{\"name\":\"a/b\",\"address\":\"10.0.0.1/8\"}]}",
		"{\"interfaces\":[{\"name\":\"0123456789abcdef\",\"address\":\"10.0.0.1/8\"}]}",
		"{\"interfaces\":{}}",
		"{\"interfaces\":[{\"name\":\"e\",\"address\":\"1.2.3.4/8\",\"mac\":\"02:42:c0:a8:41\"}]}",
		"{\"interfaces\":[{\"name\":\"e\",\"address\":\"1.2.3.4/8\",\"mac\":\"02:42:c0:a8:41:0g\"}]}",
		"{\"interfaces\":[{\"name\":\"e\",\"address\":\"1.2.3.4/8\",\"mac\":\"02:42:c0:a8:41:03:\"}]}",
		"{\"interfaces\":[{\"name\":\"e\",\"address\":\"1.2.3.4/8\",\"mac\":\"02:42:c0:a8:41: 3\"}]}",
		"{\"interfaces\":[{\"name\":\"e\",\"address\":\"1.2.3.4/8\",\"mac\":\"0x:42:c0:a8:41:03\"}]}",
		"{\"interfaces\":[{\"name\":\"e\",\"address\":\"1.2.3.4/8\",\"mac\":7}]}",
	};
	int refused = 0;
	for (size_t i = 0; i < sizeof(bad_if) / sizeof(bad_if[0]); i++)
		refused += cfg(bad_if[i], &c, &e) == -EINVAL;
	is_int(refused, sizeof(bad_if) / sizeof(bad_if[0]), "bad interfaces refused");

	is_int(guest_rlimit_parse("NOFILE"), 7, "rlimit names are case-insensitive");
	is_int(guest_rlimit_parse("rttime"), 15, "last rlimit");
	is_int(guest_rlimit_parse("RLIMIT_"), -1, "empty rlimit name");
	ok(guest_hostname_valid("a") && guest_hostname_valid("a-b.c1") &&
	   !guest_hostname_valid("a..b") && !guest_hostname_valid("a.") &&
	   !guest_hostname_valid("a_b") && !guest_hostname_valid("a-"), "hostname rules");
}

int main(void)
{
	test_cmdline();
	test_config();
	return done_testing();
}
