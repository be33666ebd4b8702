/* The runtime role, `container runtime [--attach-fd N] ID` (see
 * applets/runtime.h): prepares the container's disks, boots its VM, and
 * records what happened in the bundle (applets/bundle.h).  The channels'
 * event handling is in applets/runtime_io.c.  Started by `container run`
 * (and by the API server, #6). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/network.h"
#include "applets/mounts.h"
#include "applets/runtime.h"
#include "applets/runtime_int.h"
#include "initrd/agent.h"
#include "initrd/blobs.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/jsonx.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "oci/ext4.h"
#include "vm/vm.h"

#define TEARDOWN_KILL_MS 5000   /* after SHUTDOWN: the guest powers off in ms */
#define STOP_KILL_MS 3000       /* after the SIGKILL that ends a stop */

uint64_t runtime__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- stdio.log ----------------------------------------------------------- */

/* Append s[0..n) to out as valid UTF-8, each invalid byte as U+FFFD (what
 * Go's encoding/json does for Docker's log lines). */
static void utf8_clean(struct buf *out, const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
			 : (c & 0xf8) == 0xf0 ? 4 : 0;
		bool good = k > 0 && i + k <= n && c != 0xc0 && c != 0xc1 && c <= 0xf4;
		for (size_t j = 1; good && j < k; j++)
			good = (s[i + j] & 0xc0) == 0x80;
		if (good && k == 3) {
			unsigned cp = ((c & 0x0fu) << 12) | ((s[i + 1] & 0x3fu) << 6);
			good = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
		} else if (good && k == 4) {
			unsigned cp = ((c & 0x07u) << 18) | ((s[i + 1] & 0x3fu) << 12);
			good = cp >= 0x10000 && cp <= 0x10ffff;
		}
		if (good) {
			buf_append(out, s + i, k);
			i += k;
		} else {
			buf_append(out, "\xef\xbf\xbd", 3);
			i++;
		}
	}
}

void runtime__log_output(struct rt *rt, const char *stream, const void *p, size_t n)
{
	const unsigned char *s = p;
	_cleanup_buf_ struct buf text = BUF_INIT, line = BUF_INIT;
	struct err e = ERR_INIT;
	char now[40];

	if (rt->log_fd < 0)
		return;
	bundle_now(now, sizeof(now));
	/* one entry per line, as Docker's json-file driver writes them */
	while (n) {
		const unsigned char *nl = memchr(s, '\n', n);
		size_t k = nl ? (size_t)(nl - s) + 1 : n;
		json_t *j;
		buf_reset(&text);
		utf8_clean(&text, s, k);
		j = json_pack("{s:s%, s:s, s:s}", "log", text.data, text.len, "stream", stream,
			      "time", now);
		if (j && jsonx_dump_buf(j, JSON_PRESERVE_ORDER | JSON_COMPACT, &line, &e) == 0)
			buf_putc(&line, '\n');
		json_decref(j);
		s += k;
		n -= k;
	}
	if (fs_write_full(rt->log_fd, line.data, line.len, &e) < 0) {
		log_warn("runtime: stdio.log: %s; no longer logging output", e.msg);
		close(rt->log_fd);
		rt->log_fd = -1;
	}
}

/* --- state --------------------------------------------------------------- */

static double ms_between(const struct rt *rt, int a, int b)
{
	if (!rt->m[a] || !rt->m[b])
		return -1;
	return (double)(rt->m[b] - rt->m[a]) / 1e6;
}

static long vm_hwm_kib(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	const char *p;

	if (fs_read_file("/proc/self/status", &b, 1 << 16, &e) < 0)
		return -1;   /* not Linux */
	p = strstr(buf_str(&b), "VmHWM:");
	return p ? strtol(p + 6, NULL, 10) : -1;
}

static void record_timings(struct rt *rt)
{
	static const int from[BUNDLE_T__COUNT] = { RT_M_CREATOR, RT_M_START, RT_M_DISK,
						   RT_M_SPAWNED, RT_M_HELLO, RT_M_OK,
						   RT_M_EXIT };
	static const int to[BUNDLE_T__COUNT] = { RT_M_START, RT_M_DISK, RT_M_SPAWNED,
						 RT_M_HELLO, RT_M_OK, RT_M_EXIT, RT_M_END };

	rt->st.has_timings = true;
	for (int i = 0; i < BUNDLE_T__COUNT; i++)
		rt->st.timings_ms[i] = ms_between(rt, from[i], to[i]);
	rt->st.rss_kib = vm_hwm_kib();
}

static void save_state(struct rt *rt)
{
	struct err e = ERR_INIT;

	if (bundle_state_save(rt->cfg.id, &rt->st, &e) < 0)
		log_warn("runtime: %s", e.msg);
}

/* --- teardown -------------------------------------------------------------- */

static void on_kill_deadline(uv_timer_t *t)
{
	struct rt *rt = t->data;
	struct err e = ERR_INIT;

	if (rt->vm && vm_kill(rt->vm, &e) < 0)
		log_warn("runtime: %s", e.msg);
}

static void send_shutdown(struct rt *rt)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (agent_put_raw(&b, AGENT_SHUTDOWN, 0, 0, NULL, 0, &e) == 0)
		runtime__to_guest(rt, &b);
}

void runtime__teardown(struct rt *rt)
{
	send_shutdown(rt);
	uv_timer_stop(&rt->timer);
	uv_timer_start(&rt->timer, on_kill_deadline, TEARDOWN_KILL_MS, 0);
}

/* Where to look when the VM failed: `logs --boot`, or, when --rm will
 * delete the bundle, the console's last lines themselves. */
void runtime__boot_hint(struct rt *rt, struct buf *out)
{
	_cleanup_buf_ struct buf p = BUF_INIT, log = BUF_INIT;
	struct err e = ERR_INIT;
	size_t start;
	int lines = 0;

	if (!rt->cfg.auto_remove) {
		buf_printf(out, ": see container logs --boot %.12s", rt->cfg.id);
		return;
	}
	if (bundle_path(rt->cfg.id, "boot.log", &p, &e) < 0 ||
	    fs_read_file(buf_str(&p), &log, 16u << 20, &e) < 0 || log.len == 0)
		return;
	while (log.len && (log.data[log.len - 1] == '\n' || log.data[log.len - 1] == '\r'))
		log.len--;
	log.data[log.len] = '\0';
	{
		/* a panic's reason is above its backtrace: that line says it all */
		const char *panic = strstr(log.data, "Kernel panic - not syncing");
		if (panic) {
			buf_printf(out, "; %.*s", (int)strcspn(panic, "\r\n"), panic);
			return;
		}
	}
	start = log.len;
	while (start > 0 && lines < 4 && log.len - start < 320)
		if (log.data[--start] == '\n')
			lines++;
	if (start > 0 || log.data[start] == '\n')
		start++;
	buf_puts(out, "; the VM's console ended with:\n");
	buf_append(out, log.data + start, log.len - start);
}

/* The guest never got the workload running: a kernel that hangs, an init
 * that never answers.  Nothing else would end such a VM. */
static void on_boot_deadline(uv_timer_t *t)
{
	struct rt *rt = t->data;
	struct err e = ERR_INIT;

	_cleanup_buf_ struct buf hint = BUF_INIT;

	runtime__boot_hint(rt, &hint);
	runtime__fatal(rt, "the VM did not start the workload within %.1f s%s",
		       runtime__boot_timeout_ms() / 1000.0, buf_str(&hint));
	if (rt->vm && vm_kill(rt->vm, &e) < 0)
		log_warn("runtime: %s", e.msg);
}

int runtime__boot_timeout_ms(void)
{
	const char *s = getenv("CONTAINER_BOOT_TIMEOUT_MS");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 && v < 24L * 3600 * 1000 ? (int)v : RUNTIME_BOOT_TIMEOUT_MS;
}

/* SIGKILL to the workload, so its status is 137 as with docker; its EXIT
 * then shuts the VM down (runtime__teardown).  A guest that does not
 * answer is killed after STOP_KILL_MS. */
static void kill_now(struct rt *rt)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	rt->stopping = true;
	if (agent_put_signal(&b, 1, SIGKILL, &e) == 0)
		runtime__to_guest(rt, &b);
	uv_timer_stop(&rt->timer);
	uv_timer_start(&rt->timer, on_kill_deadline, STOP_KILL_MS, 0);
}

static void on_grace_over(uv_timer_t *t)
{
	kill_now(t->data);
}

void runtime__stop(struct rt *rt, int signo, uint64_t grace_ms)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (rt->got_exit || rt->finished)
		return;   /* already on its way down */
	if (!rt->started) {
		/* nothing runs yet: no grace */
		if (rt->vm)
			vm_kill(rt->vm, &e);
		return;
	}
	if (rt->stopping || signo == SIGKILL || grace_ms == 0) {
		kill_now(rt);   /* a second request, or a kill */
		return;
	}
	rt->stopping = true;
	if (agent_put_signal(&b, 1, signo, &e) == 0)
		runtime__to_guest(rt, &b);
	uv_timer_stop(&rt->timer);
	uv_timer_start(&rt->timer, on_grace_over, grace_ms, 0);
}

static void on_signal(uv_signal_t *s, int signo)
{
	log_debug("runtime: signal %d: stopping the container", signo);
	runtime__stop(s->data, SIGTERM, RUNTIME_STOP_GRACE_MS);
}

static void closed(uv_handle_t *h)
{
	(void)h;
}

static void close_handle(void *h)
{
	uv_handle_t *u = h;
	if (u->loop && !uv_is_closing(u))
		uv_close(u, closed);
}

static void walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	close_handle(h);
}

void runtime__finish(struct rt *rt)
{
	struct err e = ERR_INIT;
	struct vm_exit x = { VM_EXIT_RUNNING, -1, "" };

	if (rt->finished)
		return;
	rt->finished = true;
	if (rt->vm && vm_wait(rt->vm, 5000, &x, &e) < 0)
		log_warn("runtime: %s", e.msg);
	rt->m[RT_M_END] = runtime__now();
	rt->guest_open = false;
	log_debug("runtime: VM ended: %s %s", vm_exit_reason_name(x.reason), x.detail);
	close_handle(&rt->guest);
	network_runtime_stop(rt->proxy);
	rt->proxy = NULL;
	close_handle(&rt->vm_poll);
	close_handle(&rt->timer);
	for (size_t i = 0; i < ARRAY_SIZE(rt->sig); i++)
		close_handle(&rt->sig[i]);
	if (rt->log_fd >= 0)
		close(rt->log_fd);
	rt->log_fd = -1;

	if (!rt->got_exit && !rt->error[0]) {
		_cleanup_buf_ struct buf hint = BUF_INIT;
		runtime__boot_hint(rt, &hint);
		snprintf(rt->error, sizeof(rt->error), "the VM ended without an exit status (%s%s%s)%s",
			 vm_exit_reason_name(x.reason), x.detail[0] ? ": " : "", x.detail,
			 buf_str(&hint));
	}
	rt->st.status = BUNDLE_EXITED;
	rt->st.runtime_pid = rt->st.vmm_pid = 0;
	bundle_now(rt->st.finished_at, sizeof(rt->st.finished_at));
	rt->st.exit_code = rt->got_exit ? rt->exit_status : -1;
	snprintf(rt->st.error, sizeof(rt->st.error), "%s", rt->got_exit ? "" : rt->error);
	record_timings(rt);
	if (rt->cfg.auto_remove) {
		if (bundle_remove(rt->cfg.id, &e) < 0 ||
		    (rt->cfg.mounts && mounts_remove_anonymous(rt->cfg.mounts, &e) < 0))
			log_warn("runtime: --rm: %s", e.msg);
	} else {
		save_state(rt);
	}

	runtime__clients_finish(rt);
}

/* The VM ended.  What the guest wrote before is still in the channel
 * (its EXIT may be behind output a slow client has not taken yet): finish
 * once it is drained, or once the client stops making progress. */
static void on_vm_event(uv_poll_t *p, int status, int events)
{
	struct rt *rt = p->data;

	(void)status;
	(void)events;
	uv_poll_stop(p);
	/* vm.h: readable means "ask vm_wait", which also ends a VM whose
	 * virtiofsd has gone (vm/qemu.c) instead of leaving it hanging */
	vm_wait(rt->vm, 0, NULL, NULL);
	rt->vm_ended = true;
	if (!rt->guest_open) {
		runtime__finish(rt);
		return;
	}
	runtime__clients_drain(rt);
}

/* --- preparation ----------------------------------------------------------- */

int runtime__config_doc(struct rt *rt, struct buf *out, struct err *e)
{
	_cleanup_json_ json_t *doc = json_deep_copy(rt->cfg.guest);
	struct timespec ts;

	if (!doc)
		return err_set(e, -EINVAL, "the guest document is not an object");
	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_set_new(doc, "clock_ns",
			    json_integer((json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec));
	json_object_set_new(doc, "image_dev", json_string("image"));
	if (!rt->read_only)
		json_object_set_new(doc, "rw_dev", json_string("rw"));
	json_object_set_new(doc, "fstype", json_string("ext4"));
	if (rt->guest_mounts)
		json_object_set(doc, "mounts", rt->guest_mounts);
	return jsonx_dump_buf(doc, JSON_COMPACT, out, e);
}

/* rw.ext4, made once: a restarted container keeps its writable layer. */
static int make_rw(struct rt *rt, struct buf *path, struct err *e)
{
	_cleanup_buf_ struct buf tmp = BUF_INIT;
	struct stat st;
	int rc;

	if ((rc = bundle_path(rt->cfg.id, "rw.ext4", path, e)) < 0)
		return rc;
	if (stat(buf_str(path), &st) == 0)
		return 0;
	buf_printf(&tmp, "%s.tmp", buf_str(path));
	if ((rc = ext4_make_empty(buf_str(&tmp), rt->cfg.rw_size, NULL, e)) < 0)
		return err_wrap(e, "writable disk");
	if (rename(buf_str(&tmp), buf_str(path)) < 0)
		return err_sys(e, "rename %s", buf_str(&tmp));
	return 0;
}

static void cmdline(struct rt *rt, struct buf *out)
{
	buf_puts(out, "container.agent=virtio panic=-1");
	buf_puts(out, rt->debug ? " container.debug=1" : " quiet");
	for (char **a = rt->cfg.kernel_args; a && *a; a++)
		buf_printf(out, " %s", *a);
}

/* CONTAINER_INITRAMFS=path replaces the embedded initramfs (tests and
 * development; see runtime.h). */
static int initramfs(enum vm_arch arch, struct vm_blob *out, struct err *e)
{
	const char *p = getenv("CONTAINER_INITRAMFS");

	if (p && *p) {
		*out = (struct vm_blob){ p, NULL, 0 };
		return 0;
	}
	return blobs_initramfs(arch, out, e);
}

static void close_taps(const int *taps)
{
	for (size_t i = 0; i < NETWORK_NICS_MAX; i++)
		if (taps[i] >= 0)
			close(taps[i]);
}

/* Everything up to a running VM whose channels are on the loop. */
static int prepare(struct rt *rt, int attach_fd, struct err *e)
{
	_cleanup_buf_ struct buf rw = BUF_INIT, boot = BUF_INIT, logp = BUF_INIT, kpath = BUF_INIT,
				 args = BUF_INIT;
	struct vm_config vc;
	struct vm_disk disks[2 + MOUNTS_MAX];
	struct vm_share shares[MOUNTS_MAX];
	struct mount_plan mp;
	struct vm_nic nics[NETWORK_NICS_MAX];
	int sv[2] = { -1, -1 }, taps[NETWORK_NICS_MAX], rc;

	rt->read_only = json_is_true(json_object_get(rt->cfg.guest, "read_only"));
	/* the socket first: a path too long fails before anything runs */
	if ((rc = runtime__clients_listen(rt, e)) < 0)
		return rc;
	if ((rc = bundle_path(rt->cfg.id, "stdio.log", &logp, e)) < 0 ||
	    (rc = bundle_path(rt->cfg.id, "boot.log", &boot, e)) < 0)
		return rc;
	rt->log_fd = open(buf_str(&logp), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (rt->log_fd < 0)
		return err_sys(e, "open %s", buf_str(&logp));
	vm_config_init(&vc);
	if (rt->cfg.arch && (rc = vm_arch_parse(rt->cfg.arch, &vc.arch, e)) < 0)
		return rc;
	if (!rt->read_only && (rc = make_rw(rt, &rw, e)) < 0)
		return rc;
	rt->m[RT_M_DISK] = runtime__now();
	if ((rc = blobs_kernel_resolve(vc.arch, rt->cfg.kernel, &vc.kernel, &kpath, e)) < 0 ||
	    (rc = initramfs(vc.arch, &vc.initrd, e)) < 0)
		return rc;
	vc.cpus = rt->cfg.cpus ? rt->cfg.cpus : 1;
	vc.memory_mib = rt->cfg.memory_mib ? rt->cfg.memory_mib : 256;
	disks[0] = (struct vm_disk){ rt->cfg.snapshot, true, "image" };
	disks[1] = (struct vm_disk){ buf_str(&rw), false, "rw" };
	vc.disks = disks;
	vc.n_disks = rt->read_only ? 1 : 2;
	if ((rc = mounts_plan(rt->cfg.mounts, rt->cfg.id, &mp, e)) < 0)
		return rc;
	mounts_vm_config(&mp, &vc, disks, shares);
	vc.share_fs = vm_share_fs_pick();
	if (vc.share_fs == VM_SHARE_VIRTIOFS)
		mounts_plan_virtiofs(&mp);
	rt->guest_mounts = json_array_size(mp.guest) ? json_incref(mp.guest) : NULL;
	cmdline(rt, &args);
	vc.cmdline = buf_str(&args);
	vc.console_log = buf_str(&boot);
	if ((rc = network_runtime_nics(rt->cfg.network, rt->cfg.id, nics, taps, e)) < 0) {
		mounts_plan_free(&mp);
		return rc;
	}
	vc.nics = nics;
	vc.n_nics = (size_t)rc;
	/* no SOCK_CLOEXEC: macOS lacks it; nothing forks in between */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		close_taps(taps);
		mounts_plan_free(&mp);
		return err_sys(e, "socketpair");
	}
	fcntl(sv[0], F_SETFD, FD_CLOEXEC);
	fcntl(sv[1], F_SETFD, FD_CLOEXEC);
	vc.agent_fd = sv[1];
	rc = vm_create(&vc, &rt->vm, e);
	if (rc == 0)
		rc = vm_start(rt->vm, e);
	mounts_plan_free(&mp);   /* vm_create copied the paths */
	close(sv[1]);
	close_taps(taps);   /* the VMM has its own: a TAP ends with it */
	if (rc < 0) {
		close(sv[0]);
		return rc;
	}
	rt->m[RT_M_SPAWNED] = runtime__now();
	uv_timer_start(&rt->timer, on_boot_deadline, (uint64_t)runtime__boot_timeout_ms(), 0);
	rt->st.status = BUNDLE_RUNNING;
	rt->st.runtime_pid = (long)getpid();
	rt->st.vmm_pid = (long)vm_pid(rt->vm);
	bundle_now(rt->st.started_at, sizeof(rt->st.started_at));
	rt->st.finished_at[0] = '\0';
	rt->st.exit_code = -1;
	rt->st.error[0] = '\0';
	rt->st.has_timings = false;
	save_state(rt);

	if ((rc = network_runtime_ports(&rt->loop, rt->cfg.network, rt->cfg.id, &rt->proxy, e)) < 0) {
		close(sv[0]);
		return rc;
	}
	if ((rc = runtime__io_start(rt, sv[0], e)) < 0 ||
	    (attach_fd >= 0 && (rc = runtime__clients_attach_fd(rt, attach_fd, e)) < 0))
		return rc;
	if ((rc = uv_poll_init(&rt->loop, &rt->vm_poll, vm_event_fd(rt->vm))) < 0 ||
	    (rc = uv_poll_start(&rt->vm_poll, UV_READABLE | UV_DISCONNECT, on_vm_event)) < 0)
		return err_set(e, rc, "watching the VM: %s", uv_strerror(rc));
	rt->vm_poll.data = rt;
	return 0;
}

static int loop_handles(struct rt *rt, struct err *e)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	int rc = uv_loop_init(&rt->loop);

	if (rc < 0)
		return err_set(e, rc, "event loop: %s", uv_strerror(rc));
	rt->loop_ok = true;
	uv_timer_init(&rt->loop, &rt->timer);
	rt->timer.data = rt;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		uv_signal_init(&rt->loop, &rt->sig[i]);
		rt->sig[i].data = rt;
		if ((rc = uv_signal_start(&rt->sig[i], on_signal, sigs[i])) < 0)
			return err_set(e, rc, "signal %d: %s", sigs[i], uv_strerror(rc));
	}
	return 0;
}

/* Synchronous, for before the loop runs: HELLO to the client. */
static void client_hello(int fd)
{
	struct agent_hello h = { AGENT_VERSION, AGENT_VERSION, NULL };
	_cleanup_buf_ struct buf b = BUF_INIT, name = BUF_INIT;
	struct err e = ERR_INIT;

	buf_printf(&name, "container-runtime %s", container_version);
	h.agent = buf_str(&name);
	if (agent_put_hello(&b, &h, &e) == 0)
		fs_write_full(fd, b.data, b.len, &e);
}

/* A failure before the VM ran: state, the client's ERROR, runtime exit 1. */
static int fail_early(struct rt *rt, int attach_fd, const struct err *why)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	fprintf(stderr, "container-runtime: %s\n", why->msg);
	if (rt->cfg.id[0]) {
		rt->st.status = BUNDLE_EXITED;
		rt->st.runtime_pid = rt->st.vmm_pid = 0;
		rt->st.exit_code = -1;
		bundle_now(rt->st.finished_at, sizeof(rt->st.finished_at));
		snprintf(rt->st.error, sizeof(rt->st.error), "%s", why->msg);
		if (rt->cfg.auto_remove && bundle_remove(rt->cfg.id, &e) == 0 && rt->cfg.mounts)
			mounts_remove_anonymous(rt->cfg.mounts, &e);
		else
			save_state(rt);
	}
	if (attach_fd >= 0 && agent_put_error(&b, 0, why->code ? why->code : -EIO, why->msg, &e) == 0)
		fs_write_full(attach_fd, b.data, b.len, &e);
	return EXIT_FAIL;
}

static void print_timings(struct rt *rt)
{
	const char *t = getenv("CONTAINER_TIMINGS");
	_cleanup_buf_ struct buf line = BUF_INIT;

	if (!t || strcmp(t, "1") != 0)
		return;
	buf_puts(&line, "runtime: timings ms");
	for (int i = 0; i < BUNDLE_T__COUNT; i++)
		buf_printf(&line, " %s=%.1f", bundle_timing_names[i], rt->st.timings_ms[i]);
	buf_printf(&line, " rss_kib=%ld\n", vm_hwm_kib());
	fputs(buf_str(&line), stderr);
}

struct runtime_opts {
	long attach_fd;
};

static const struct opt runtime_optv[] = {
	OPT_INT(0, "attach-fd", struct runtime_opts, attach_fd, "N",
		"An inherited connected socket: the attached client"),
	OPT_END,
};

static int runtime_run(const struct cmd *c, void *o, int argc, char **argv)
{
	const struct runtime_opts *opts = o;
	struct rt *rt = xcalloc(1, sizeof(*rt));
	struct err e = ERR_INIT;
	int attach_fd = -1, rc;

	(void)c;
	(void)argc;
	rt->m[RT_M_START] = runtime__now();
	{
		/* the creator's start (run sets it): "create" in the timings */
		const char *t0 = getenv("CONTAINER_START_NS");
		unsigned long long v = t0 ? strtoull(t0, NULL, 10) : 0;
		if (v && v <= rt->m[RT_M_START])
			rt->m[RT_M_CREATOR] = v;
	}
	rt->log_fd = -1;
	runtime__streams_init(&rt->streams);
	rt->debug = log_level() >= LOG_DEBUG;
	/* a client that went away is a write error, not our death */
	signal(SIGPIPE, SIG_IGN);
	if (opts->attach_fd) {
		struct stat st;
		if (opts->attach_fd < 3 || opts->attach_fd > 65535 ||
		    fstat((int)opts->attach_fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "container-runtime: --attach-fd %ld: not an open socket\n",
				opts->attach_fd);
			free(rt);
			return EXIT_USAGE;
		}
		attach_fd = (int)opts->attach_fd;
		fcntl(attach_fd, F_SETFD, FD_CLOEXEC);
		client_hello(attach_fd);
	}
	if (strlen(argv[0]) != BUNDLE_ID_LEN) {
		err_set(&e, -EINVAL, "'%s' is not a full container id", argv[0]);
		rc = fail_early(rt, attach_fd, &e);
		goto out;
	}
	if (bundle_config_load(argv[0], &rt->cfg, &e) < 0 ||
	    bundle_state_load(argv[0], &rt->st, &e) < 0) {
		rc = fail_early(rt, attach_fd, &e);
		goto out;
	}
	if (rt->st.status == BUNDLE_RUNNING && rt->st.runtime_pid > 0 &&
	    kill((pid_t)rt->st.runtime_pid, 0) == 0 && rt->st.runtime_pid != getpid()) {
		err_set(&e, -EBUSY, "container %.12s is already running (runtime pid %ld)",
			rt->cfg.id, rt->st.runtime_pid);
		memset(rt->cfg.id, 0, sizeof(rt->cfg.id));   /* not ours to record */
		rc = fail_early(rt, attach_fd, &e);
		goto out;
	}
	if (loop_handles(rt, &e) < 0 || prepare(rt, attach_fd, &e) < 0) {
		if (rt->vm)
			vm_free(rt->vm);
		rt->vm = NULL;
		rc = fail_early(rt, attach_fd, &e);
		if (rt->loop_ok) {
			uv_walk(&rt->loop, walk_close, NULL);
			uv_run(&rt->loop, UV_RUN_DEFAULT);
			uv_loop_close(&rt->loop);
		}
		goto out;
	}
	uv_run(&rt->loop, UV_RUN_DEFAULT);
	uv_loop_close(&rt->loop);
	print_timings(rt);
	rc = rt->got_exit ? EXIT_OK : EXIT_FAIL;
	if (!rt->got_exit)
		fprintf(stderr, "container-runtime: %s\n", rt->error);
out:
	vm_free(rt->vm);
	if (rt->log_fd >= 0)
		close(rt->log_fd);
	buf_free(&rt->grx);
	if (rt->sock_path.len)
		unlink(buf_str(&rt->sock_path));   /* a failed start */
	buf_free(&rt->sock_path);
	bundle_config_free(&rt->cfg);
	json_decref(rt->guest_mounts);
	free(rt);
	return rc;
}

const struct cmd cmd_runtime = {
	.name = "runtime",
	.summary = "Role: the helper that owns one container's VM",
	.usage = "CONTAINER-ID",
	.help = "Boots the container's VM, relays its stdio and records its state.\n"
		"Started by `container run`; see applets/runtime.h for the client protocol.",
	.opts = runtime_optv,
	.opts_size = sizeof(struct runtime_opts),
	.min_args = 1,
	.max_args = 1,
	.run = runtime_run,
};
