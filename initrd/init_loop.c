/* The guest init's agent channel and event loop (see initrd/init.h and the
 * protocol in initrd/agent.h).
 *
 * One poll() loop: the agent channel, a signalfd (SIGCHLD and the signals
 * init forwards), the power button, and each process's stdio.  Writes to
 * the agent are blocking: the host reads with an event loop, so a slow
 * host slows the workload down instead of growing our memory.  Stdin for
 * a process is queued (non-blocking writes) and reading the agent pauses
 * while any queue is above INIT_STDIN_HIGH, which bounds guest memory and
 * cannot deadlock: the workload's output is still drained meanwhile. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
/* after sys/socket.h, which it needs */
#include <linux/vm_sockets.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "initrd/agent.h"
#include "initrd/init.h"
#include "initrd/procstat.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/mem.h"

#define DRAIN_MS 2000        /* output kept flowing after a process exits */
/* After EXIT, how long to wait for the host's SHUTDOWN.  Long: a host
 * whose client reads slowly may still be draining our output (the runtime
 * sends SHUTDOWN right after it has read EXIT and kills the VM itself 5 s
 * later); a host that hangs up ends the wait at once. */
#define SHUTDOWN_WAIT_MS (10 * 60 * 1000)

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- signals --------------------------------------------------------------- */

static const int handled[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
			       SIGPWR };

int init__signals(struct init *in, struct err *e)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(handled); i++)
		sigaddset(&set, handled[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return err_sys(e, "sigprocmask");
	in->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (in->sigfd < 0)
		return err_sys(e, "signalfd");
	/* a closed pipe is an error return, not a death (children reset it) */
	signal(SIGPIPE, SIG_IGN);
	/* Ctrl-Alt-Del becomes SIGINT to us instead of an instant reboot */
	reboot(RB_DISABLE_CAD);
	return 0;
}

/* --- the channel ------------------------------------------------------------ */

static int find_port(const char *want, struct buf *dev)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *de;
	int found = 0;

	while (d && !found && (de = readdir(d))) {
		_cleanup_buf_ struct buf p = BUF_INIT, name = BUF_INIT;
		struct err e = ERR_INIT;
		if (de->d_name[0] == '.')
			continue;
		buf_printf(&p, "/sys/class/virtio-ports/%s/name", de->d_name);
		if (fs_read_file(buf_str(&p), &name, 4096, &e) < 0)
			continue;
		while (name.len && (name.data[name.len - 1] == '\n' || name.data[name.len - 1] == 0))
			buf_truncate(&name, name.len - 1);
		if (!strcmp(buf_str(&name), want)) {
			buf_printf(dev, "/dev/%s", de->d_name);
			found = 1;
		}
	}
	if (d)
		closedir(d);
	return found;
}

static int open_vsock(struct init *in, const char *port_s, struct err *e)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY };
	long port = port_s ? strtol(port_s, NULL, 10) : 1024;
	int s, c;

	if (port <= 0 || port > 0x7fffffff)
		return err_set(e, -EINVAL, "container.agent: bad vsock port '%s'", port_s);
	sa.svm_port = (unsigned)port;
	s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0) {
		if (s >= 0)
			close(s);
		return err_sys(e, "vsock port %ld", port);
	}
	init__debug(in, "waiting for the host on vsock port %ld", port);
	/* the host connects to us (Virtualization.framework's direction);
	 * one connection, then the listener goes away */
	do
		c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	while (c < 0 && errno == EINTR);
	close(s);
	if (c < 0)
		return err_sys(e, "vsock accept");
	in->agent = c;
	return 0;
}

int init__agent_open(struct init *in, struct err *e)
{
	const char *spec = in->cmdline.agent;
	_cleanup_buf_ struct buf dev = BUF_INIT;
	struct agent_hello h = { AGENT_VERSION, AGENT_VERSION, "container-init" };

	if (spec && !strcmp(spec, "none"))
		return 0;
	if (spec && !strncmp(spec, "fd:", 3)) {
		/* an inherited descriptor: init started by hand, for tests */
		char *end;
		long fd = strtol(spec + 3, &end, 10);
		if (*end || fd < 3 || fd > 1024 || fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0)
			return err_set(e, -EBADF, "container.agent=%s: not an open descriptor", spec);
		in->agent = (int)fd;
	} else if (spec && !strncmp(spec, "vsock", 5) && (spec[5] == '\0' || spec[5] == ':')) {
		int rc = open_vsock(in, spec[5] ? spec + 6 : NULL, e);
		if (rc < 0)
			return rc;
	} else {
		const char *name = "container.agent";
		if (spec && !strncmp(spec, "virtio:", 7))
			name = spec + 7;
		else if (spec && strcmp(spec, "virtio") != 0)
			return err_set(e, -EINVAL, "container.agent=%s: want virtio[:NAME], "
					       "vsock[:PORT] or none", spec);
		if (!find_port(name, &dev)) {
			if (!spec)
				return 0;   /* auto: no channel, run from the command line */
			return err_set(e, -ENOENT, "no virtio-serial port named %s", name);
		}
		in->agent = open(buf_str(&dev), O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (in->agent < 0)
			return err_sys(e, "open %s", buf_str(&dev));
	}
	buf_reset(&in->tx);
	if (agent_put_hello(&in->tx, &h, e) < 0)
		return e->code;
	return init__send(in, e);
}

int init__send(struct init *in, struct err *e)
{
	int rc = 0;

	if (in->agent >= 0 && in->tx.len)
		rc = fs_write_full(in->agent, in->tx.data, in->tx.len, e);
	buf_reset(&in->tx);
	if (rc < 0) {
		init__log(in, "agent channel: %s: the host is gone", e->msg);
		init__poweroff(in);
	}
	return 0;
}

static void send_error(struct init *in, uint32_t stream, int code, const char *msg)
{
	struct err e = ERR_INIT;

	init__debug(in, "error to host (stream %u): %s", stream, msg);
	if (agent_put_error(&in->tx, stream, code, msg, &e) == 0)
		init__send(in, &e);
}

static void send_ok(struct init *in, uint32_t stream)
{
	struct err e = ERR_INIT;
	if (agent_put_raw(&in->tx, AGENT_OK, stream, 0, NULL, 0, &e) == 0)
		init__send(in, &e);
}

/* Read what the channel has into rx.  EOF means the host is gone. */
static void agent_read(struct init *in)
{
	size_t room = AGENT_FRAME_MAX - in->rx.len;
	ssize_t n;

	if (room == 0 || buf_reserve(&in->rx, room) < 0)
		return;
	n = read(in->agent, in->rx.data + in->rx.len, room);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		init__log(in, "agent channel %s: the host is gone",
			  n == 0 ? "closed" : strerror(errno));
		init__poweroff(in);
	}
	in->rx.len += (size_t)n;
	in->rx.data[in->rx.len] = '\0';
}

/* Next whole frame in rx: 1 (f valid until the next call), 0 (need more).
 * Frames we cannot use are answered and skipped; lost framing is fatal. */
static int next_frame(struct init *in, struct agent_frame *f)
{
	buf_consume(&in->rx, in->rx_used);
	in->rx_used = 0;
	for (;;) {
		struct err e = ERR_INIT;
		size_t used;
		int rc = agent_decode(in->rx.data, in->rx.len, f, &used, &e);
		if (rc == 1 && !agent_type_from_host(f->type)) {
			err_set(&e, -EBADMSG, "agent: %s is not accepted from the host",
				agent_type_name(f->type));
			rc = -EBADMSG;
		}
		if (rc == 1) {
			in->rx_used = used;
			return 1;
		}
		if (rc == 0)
			return 0;
		if (used == 0) {
			init__log(in, "%s: closing the channel", e.msg);
			send_error(in, 0, rc, e.msg);
			init__poweroff(in);
		}
		send_error(in, 0, rc, e.msg);
		buf_consume(&in->rx, used);
	}
}

/* --- stats --------------------------------------------------------------------- */

/* The processes of the container: every one but this init (pid 1) and
 * the kernel's threads (kthreadd, pid 2, and its children).  At most
 * 65536 entries are looked at. */
static uint64_t count_procs(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	_cleanup_buf_ struct buf path = BUF_INIT;
	struct err e = ERR_INIT;
	DIR *d = opendir("/proc");
	struct dirent *de;
	uint64_t n = 0;
	unsigned seen = 0;

	while (d && seen++ < 65536 && (de = readdir(d))) {
		long pid = strtol(de->d_name, NULL, 10), ppid;
		if (pid <= 2)
			continue;
		buf_reset(&path);
		buf_reset(&b);
		if (buf_printf(&path, "/proc/%ld/stat", pid) < 0 ||
		    fs_read_file(buf_str(&path), &b, 4096, &e) < 0) {
			err_clear(&e);
			continue;
		}
		ppid = procstat_ppid(b.data, b.len);
		if (ppid >= 0 && ppid != 2)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

/* Each /proc file through its parser (initrd/procstat.h); a file that
 * cannot be read leaves its numbers 0. */
static void send_stats(struct init *in)
{
	static const struct {
		const char *path;
		size_t max;
		void (*parse)(const char *p, size_t n, struct agent_stats *st);
	} files[] = {
		{ "/proc/meminfo", 1 << 16, procstat_meminfo },
		{ "/proc/stat", 1 << 20, procstat_stat },
		{ "/proc/net/dev", 1 << 20, procstat_netdev },
		{ "/proc/diskstats", 1 << 20, procstat_diskstats },
		{ "/proc/uptime", 4096, procstat_uptime },
	};
	struct agent_stats st;
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		buf_reset(&b);
		if (fs_read_file(files[i].path, &b, files[i].max, &e) == 0)
			files[i].parse(b.data, b.len, &st);
		err_clear(&e);
	}
	st.procs = count_procs();
	if (agent_put_stats(&in->tx, &st, &e) == 0)
		init__send(in, &e);
}

/* --- configuration ----------------------------------------------------------- */

static bool hello_ok(struct init *in, const struct agent_frame *f)
{
	if (f->u.hello.min_version > AGENT_VERSION || f->u.hello.max_version < AGENT_VERSION) {
		struct buf m = BUF_INIT;
		buf_printf(&m, "host speaks agent protocol %u..%u, this guest %u",
			   f->u.hello.min_version, f->u.hello.max_version, AGENT_VERSION);
		send_error(in, 0, -EPROTONOSUPPORT, buf_str(&m));
		init__log(in, "%s", buf_str(&m));
		buf_free(&m);
		return false;
	}
	init__debug(in, "host: %s", f->u.hello.agent);
	return true;
}

int init__await_config(struct init *in, struct err *e)
{
	struct agent_frame f;

	for (;;) {
		while (next_frame(in, &f)) {
			switch (f.type) {
			case AGENT_HELLO:
				if (!hello_ok(in, &f))
					return err_set(e, -EPROTONOSUPPORT, "agent version mismatch");
				break;
			case AGENT_CONFIG: {
				int rc = guest_config_parse((const char *)f.payload, f.len, &in->cfg, e);
				if (rc < 0)
					return rc;
				in->have_cfg = true;
				return 0;
			}
			case AGENT_SHUTDOWN:
				init__poweroff(in);
			case AGENT_STATS:
				send_stats(in);
				break;
			default:
				send_error(in, f.stream, -EAGAIN, "not configured yet");
				break;
			}
		}
		agent_read(in);
	}
}

/* --- processes ------------------------------------------------------------------- */

static struct init_proc *find_proc(struct init *in, uint32_t id)
{
	for (struct init_proc *p = in->procs; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void stdin_close(struct init_proc *p)
{
	/* with a tty in_fd is a second fd of the master: closing it only
	 * stops our writing, it does not hang the terminal up */
	close_fd(&p->in_fd);
	buf_free(&p->stdin_q);
}

static void stdin_flush(struct init_proc *p)
{
	while (p->in_fd >= 0 && p->stdin_q.len) {
		ssize_t n = write(p->in_fd, p->stdin_q.data, p->stdin_q.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			stdin_close(p);   /* EPIPE: the process closed its stdin */
			return;
		}
		buf_consume(&p->stdin_q, (size_t)n);
	}
	if (p->stdin_close && !p->stdin_q.len && p->in_fd >= 0)
		stdin_close(p);
}

static char **strv_of(const struct agent_strv *l)
{
	char **v = xcalloc(l->count + 1, sizeof(*v));
	size_t off = 0, i = 0;
	const char *s;

	while ((s = agent_strv_next(l, &off)) && i < l->count)
		v[i++] = xstrdup(s);
	return v;
}

/* Forget exec'd processes whose exit was reported (a later WAIT for them
 * gets "no such process"); the main process stays. */
static void prune(struct init *in)
{
	for (struct init_proc **pp = &in->procs; *pp;) {
		struct init_proc *p = *pp;
		if (p->id != 1 && p->exit_sent && p->out_fd < 0 && p->err_fd < 0 && p->in_fd < 0) {
			*pp = p->next;
			buf_free(&p->stdin_q);
			init__spec_free(&p->spec);
			free(p);
			in->n_procs--;
		} else {
			pp = &p->next;
		}
	}
}

/* Whether a new process may take f's stream; answers ERROR when not. */
static bool stream_free(struct init *in, const struct agent_frame *f)
{
	if (f->stream < 2 || find_proc(in, f->stream)) {
		send_error(in, f->stream, -EEXIST, "process id in use");
		return false;
	}
	if (in->n_procs >= INIT_MAX_PROCS)
		prune(in);
	if (in->n_procs >= INIT_MAX_PROCS) {
		send_error(in, f->stream, -EAGAIN, "too many processes");
		return false;
	}
	return true;
}

/* A new process on f's stream, not started; proc_add lists it. */
static struct init_proc *proc_new(const struct agent_frame *f)
{
	struct init_proc *p = xcalloc(1, sizeof(*p));

	p->id = f->stream;
	p->in_fd = p->out_fd = p->err_fd = -1;
	return p;
}

/* Created: listed, START runs it; OK to the host. */
static void proc_add(struct init *in, struct init_proc *p)
{
	p->created = true;
	p->next = in->procs;
	in->procs = p;
	in->n_procs++;
	send_ok(in, p->id);
}

static void do_create(struct init *in, const struct agent_frame *f)
{
	const struct agent_create *c = &f->u.create;
	struct init_proc *p;
	struct err e = ERR_INIT;
	char **argv, **env;
	int rc;

	if (!stream_free(in, f))
		return;
	argv = strv_of(&c->argv);
	env = strv_of(&c->env);
	p = proc_new(f);
	rc = init__resolve(in, *c->user ? c->user : in->user_spec, argv, env,
			   *c->cwd ? c->cwd : in->workdir, c->tty, &p->spec, &e);
	guest_strv_free(argv);
	guest_strv_free(env);
	if (rc < 0) {
		free(p);
		send_error(in, f->stream, rc, e.msg);
		return;
	}
	p->spec.tty = c->tty;
	p->spec.open_stdin = c->open_stdin;
	p->spec.rows = c->rows;
	p->spec.cols = c->cols;
	proc_add(in, p);
}

/* COPY: a process whose body is init_copy.c, run by START like any other. */
static void do_copy(struct init *in, const struct agent_frame *f)
{
	struct init_proc *p;

	if (!stream_free(in, f))
		return;
	p = proc_new(f);
	p->spec.copy_op = f->u.copy.op;
	p->spec.copy_flags = f->u.copy.flags;
	p->spec.copy_path = xstrdup(f->u.copy.path);
	p->spec.open_stdin = f->u.copy.op == AGENT_COPY_EXTRACT;
	proc_add(in, p);
}

static void send_exit(struct init *in, struct init_proc *p)
{
	struct err e = ERR_INIT;

	init__debug(in, "process %u exited with %d", p->id, p->status);
	if (agent_put_exit(&in->tx, p->id, p->status, p->signal, &e) == 0)
		init__send(in, &e);
	p->exit_sent = true;
}

static void handle(struct init *in, const struct agent_frame *f)
{
	struct init_proc *p = f->stream ? find_proc(in, f->stream) : NULL;
	struct err e = ERR_INIT;

	if (f->stream && !p && f->type != AGENT_CREATE && f->type != AGENT_COPY) {
		send_error(in, f->stream, -ESRCH, "no such process");
		return;
	}
	switch (f->type) {
	case AGENT_HELLO:
		hello_ok(in, f);
		break;
	case AGENT_CONFIG:
		send_error(in, 0, -EALREADY, "already configured");
		break;
	case AGENT_ERROR:
		init__log(in, "host reports: %s", f->u.error.message);
		break;
	case AGENT_CREATE:
		do_create(in, f);
		break;
	case AGENT_COPY:
		do_copy(in, f);
		break;
	case AGENT_START:
		if (!p->created || p->pid) {
			send_error(in, f->stream, -EALREADY, "process already started");
		} else if (init__spawn(in, p, false, &e) < 0) {
			send_error(in, f->stream, e.code, e.msg);
		} else {
			init__spec_free(&p->spec);
			send_ok(in, f->stream);
		}
		break;
	case AGENT_SIGNAL:
		if (!p->pid || p->exited || kill(p->pid, f->u.signo) < 0)
			send_error(in, f->stream, -ESRCH, "process not running");
		break;
	case AGENT_RESIZE: {
		struct winsize ws = { f->u.resize.rows, f->u.resize.cols, 0, 0 };
		if (!p->tty || p->out_fd < 0 || ioctl(p->out_fd, TIOCSWINSZ, &ws) < 0)
			send_error(in, f->stream, -ENOTTY, "process has no terminal");
		break;
	}
	case AGENT_CLOSE_STDIN:
		p->stdin_close = true;
		stdin_flush(p);
		break;
	case AGENT_WAIT:
		if (p->exit_sent)
			send_exit(in, p);
		break;
	case AGENT_STATS:
		send_stats(in);
		break;
	case AGENT_SHUTDOWN:
		in->shutdown = true;
		break;
	case AGENT_STDIN:
		if (p->in_fd >= 0 && f->len)
			buf_append(&p->stdin_q, f->payload, f->len);
		if (f->flags & AGENT_FLAG_EOF)
			p->stdin_close = true;
		stdin_flush(p);
		break;
	}
}

static void reap(struct init *in)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (struct init_proc *p = in->procs; p; p = p->next) {
			if (p->pid != pid)
				continue;
			p->exited = true;
			p->exit_ms = now_ms();
			p->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
			p->status = p->signal ? EXIT_SIGNAL_BASE + p->signal : WEXITSTATUS(st);
			init__debug(in, "process %u exited: %d", p->id, p->status);
		}
	}
}

static void on_signal(struct init *in)
{
	struct signalfd_siginfo si;
	struct init_proc *main_p = find_proc(in, 1);

	while (read(in->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap(in);
		else if (main_p && main_p->pid && !main_p->exited)
			/* someone asked the VM to stop: tell the workload */
			kill(main_p->pid, si.ssi_signo == SIGPWR ? SIGTERM : (int)si.ssi_signo);
	}
}

/* KEY_POWER from the ACPI / GPIO power button: vm_stop()'s request. */
static void open_power_button(struct init *in)
{
	for (int i = 0; i < 32 && in->power_fd < 0; i++) {
		_cleanup_buf_ struct buf p = BUF_INIT;
		unsigned char keys[KEY_MAX / 8 + 1];
		int fd;
		buf_printf(&p, "/dev/input/event%d", i);
		fd = open(buf_str(&p), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			continue;
		memset(keys, 0, sizeof(keys));
		if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(keys)), keys) >= 0 &&
		    (keys[KEY_POWER / 8] & (1 << (KEY_POWER % 8))))
			in->power_fd = fd;
		else
			close(fd);
	}
}

static void on_power(struct init *in)
{
	struct input_event ev;
	struct init_proc *main_p = find_proc(in, 1);

	while (read(in->power_fd, &ev, sizeof(ev)) == (ssize_t)sizeof(ev))
		if (ev.type == EV_KEY && ev.code == KEY_POWER && ev.value == 1 && main_p &&
		    main_p->pid && !main_p->exited) {
			init__log(in, "power button: stopping the container");
			kill(main_p->pid, SIGTERM);
		}
}

/* Forward what fd has to the host as type; EOF closes it. */
static void pump(struct init *in, struct init_proc *p, int *fd, unsigned type, char *chunk)
{
	struct err e = ERR_INIT;

	for (int rounds = 0; rounds < 16 && *fd >= 0; rounds++) {
		ssize_t n = read(*fd, chunk, AGENT_DATA_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* EOF, or EIO from a tty master whose slave is gone */
			close_fd(fd);
			if (p->tty)
				close_fd(&p->in_fd);
			if (agent_put_raw(&in->tx, type, p->id, AGENT_FLAG_EOF, NULL, 0, &e) == 0)
				init__send(in, &e);
			return;
		}
		if (in->agent < 0) {
			/* no host: the console shows the workload's output */
			if (write(in->console >= 0 ? in->console : 1, chunk, (size_t)n) < 0) {
				/* nothing to do */
			}
			continue;
		}
		if (agent_put_raw(&in->tx, type, p->id, 0, chunk, (size_t)n, &e) == 0)
			init__send(in, &e);
	}
}

/* Report exits whose output is drained (or has had its grace time). */
static void report_exits(struct init *in, int64_t now, int *timeout)
{
	for (struct init_proc *p = in->procs; p; p = p->next) {
		if (!p->exited || p->exit_sent)
			continue;
		int64_t left = p->exit_ms + DRAIN_MS - now;
		if (p->out_fd >= 0 || p->err_fd >= 0) {
			if (left > 0) {
				if (*timeout < 0 || left < *timeout)
					*timeout = (int)left;
				continue;
			}
			close_fd(&p->out_fd);
			close_fd(&p->err_fd);
		}
		close_fd(&p->in_fd);
		if (in->agent >= 0)
			send_exit(in, p);
		else
			p->exit_sent = true;
		if (p->id == 1 && in->agent < 0)
			init__log(in, "exit status %d", p->status);
	}
}

static bool paused(const struct init *in)
{
	for (const struct init_proc *p = in->procs; p; p = p->next)
		if (p->stdin_q.len >= INIT_STDIN_HIGH)
			return true;
	return false;
}

/* After the main process is reported: let the host ask for the power-off
 * itself, so it has read everything before the VM ends. */
static void await_shutdown(struct init *in)
{
	int64_t end = now_ms() + SHUTDOWN_WAIT_MS;
	struct agent_frame f;

	while (in->agent >= 0 && !in->shutdown) {
		int64_t left = end - now_ms();
		struct pollfd pfd = { in->agent, POLLIN, 0 };
		while (!in->shutdown && next_frame(in, &f))
			in->shutdown = f.type == AGENT_SHUTDOWN;
		if (in->shutdown || left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		agent_read(in);
	}
}

void init__loop(struct init *in)
{
	struct pollfd pfd[3 + 3 * INIT_MAX_PROCS];
	struct { struct init_proc *p; int which; } what[3 + 3 * INIT_MAX_PROCS];
	_cleanup_free_ char *chunk = xmalloc(AGENT_DATA_CHUNK);
	struct init_proc *main_p = find_proc(in, 1);
	struct agent_frame f;

	open_power_button(in);
	reap(in);
	while (!in->shutdown && !(main_p && main_p->exit_sent)) {
		int timeout = -1;
		size_t n = 0;

		while (!paused(in) && !in->shutdown && in->agent >= 0 && next_frame(in, &f))
			handle(in, &f);
		report_exits(in, now_ms(), &timeout);
		if (main_p && main_p->exit_sent)
			break;
		pfd[n] = (struct pollfd){ in->sigfd, POLLIN, 0 };
		what[n++].p = NULL;
		if (in->agent >= 0 && !paused(in)) {
			pfd[n] = (struct pollfd){ in->agent, POLLIN, 0 };
			what[n].p = NULL;
			what[n++].which = 1;
		}
		if (in->power_fd >= 0) {
			pfd[n] = (struct pollfd){ in->power_fd, POLLIN, 0 };
			what[n].p = NULL;
			what[n++].which = 2;
		}
		what[0].which = 0;
		for (struct init_proc *p = in->procs; p; p = p->next) {
			int fds[3] = { p->out_fd, p->err_fd, p->stdin_q.len ? p->in_fd : -1 };
			for (int k = 0; k < 3; k++) {
				if (fds[k] < 0 || n >= ARRAY_SIZE(pfd))
					continue;
				pfd[n] = (struct pollfd){ fds[k], k == 2 ? POLLOUT : POLLIN, 0 };
				what[n].p = p;
				what[n++].which = k;
			}
		}
		if (poll(pfd, n, timeout) < 0 && errno != EINTR) {
			init__log(in, "poll: %s", strerror(errno));
			return;
		}
		for (size_t i = 0; i < n; i++) {
			struct init_proc *p = what[i].p;
			if (!pfd[i].revents)
				continue;
			if (!p && what[i].which == 0)
				on_signal(in);
			else if (!p && what[i].which == 1)
				agent_read(in);
			else if (!p)
				on_power(in);
			else if (what[i].which == 0)
				pump(in, p, &p->out_fd, AGENT_STDOUT, chunk);
			else if (what[i].which == 1)
				pump(in, p, &p->err_fd, AGENT_STDERR, chunk);
			else
				stdin_flush(p);
		}
	}
	if (!in->shutdown)
		await_shutdown(in);
}

/* --- the malicious-guest test mode ------------------------------------------------- */

static void raw(struct init *in, const void *p, size_t n)
{
	struct err e = ERR_INIT;

	/* a short write would cut a frame, which is not the case under test;
	 * an error means the host hung up on us: one of the outcomes tested */
	(void)fs_write_full(in->agent, p, n, &e);
}

static void misbehave_one(struct init *in, const char *mode, size_t len)
{
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	static const uint8_t hdr_oversize[16] = { 0xC7, 0xA6, AGENT_VERSION, AGENT_STDOUT,
						  0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };

	init__log(in, "test mode: %.*s", (int)len, mode);
	if (len == 7 && !strncmp(mode, "unknown", len)) {
		for (unsigned t = 0x30; t < 0x40; t++) {
			agent_put_raw(&b, AGENT_STDOUT, 1, 0, "x", 1, &e);
			b.data[b.len - (AGENT_HDR_SIZE + 1) + 3] = (char)t;   /* the type byte */
		}
		raw(in, b.data, b.len);
	} else if (len == 8 && !strncmp(mode, "badfield", len)) {
		static const uint8_t bad[] = {
			0xC7, 0xA6, AGENT_VERSION, AGENT_EXIT, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 8,
			AGENT_T_STATUS, 0xff, 0xff, 0xff, 0xff, 0, 0, 0,
			0xC7, 0xA6, AGENT_VERSION, AGENT_ERROR, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8,
			AGENT_T_MESSAGE, 0, 0, 0, 3, 'a', 'b', 'c',
		};
		raw(in, bad, sizeof(bad));
	} else if (len == 8 && !strncmp(mode, "oversize", len)) {
		raw(in, hdr_oversize, sizeof(hdr_oversize));
		char junk[4096];
		memset(junk, 'A', sizeof(junk));
		for (int i = 0; i < 16; i++)
			raw(in, junk, sizeof(junk));
	} else if (len == 7 && !strncmp(mode, "garbage", len)) {
		uint32_t x = 2463534242u;
		char junk[4096];
		for (int r = 0; r < 256; r++) {
			for (size_t i = 0; i < sizeof(junk); i++) {
				x ^= x << 13, x ^= x >> 17, x ^= x << 5;
				junk[i] = (char)x;
			}
			raw(in, junk, sizeof(junk));
		}
	} else if (len == 5 && !strncmp(mode, "flood", len)) {
		char *data = xmalloc(AGENT_DATA_CHUNK);
		memset(data, 'F', AGENT_DATA_CHUNK);
		agent_put_raw(&b, AGENT_STDOUT, 1, 0, data, AGENT_DATA_CHUNK, &e);
		free(data);
		for (uint64_t sent = 0; sent < (1ull << 30); sent += b.len)
			if (fs_write_full(in->agent, b.data, b.len, &e) < 0)
				break;
	} else {
		init__log(in, "test mode: unknown mode '%.*s'", (int)len, mode);
	}
	buf_free(&b);
}

void init__misbehave(struct init *in, const char *modes)
{
	if (in->agent < 0) {
		init__log(in, "test mode needs an agent channel");
		return;
	}
	for (const char *m = modes; *m;) {
		size_t len = strcspn(m, ",");
		if (len)
			misbehave_one(in, m, len);
		m += len + (m[len] == ',');
	}
}
