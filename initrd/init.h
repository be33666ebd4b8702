/* The guest init (PID 1 of the VM): entry point and the parts shared by
 * its files.  Linux only (SRCS_linux).
 *
 *   initrd/init.c       boot: mounts, boot configuration, root file system,
 *                       /etc files, the main process, power-off
 *   initrd/init_proc.c  starting processes: namespaces, pivot_root, user,
 *                       rlimits, exec (126/127), the in-container PID 1
 *   initrd/init_mounts.c bind mounts (9p), volumes (ext4 disks), tmpfs
 *   initrd/init_loop.c  the agent channel and the event loop: stdio relay,
 *                       control messages, reaping, the malicious test mode
 *
 * init never exits on an error: it logs to the console and powers the VM
 * off (STYLE.md 5).  The applet table calls init_main. */
#ifndef INITRD_INIT_H
#define INITRD_INIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "initrd/guest.h"
#include "lib/buf.h"

struct err;

int init_main(int argc, char **argv);

#define INIT_ROOT "/mnt/root"      /* the container's root, before pivot */
#define INIT_MAX_PROCS 256          /* processes tracked at once */
#define INIT_STDIN_HIGH (1u << 20)  /* pause reading the agent above this */

/* A process ready to start: everything resolved, nothing left to look up
 * in the container's files after fork. */
struct init_spec {
	char **argv, **env;
	char *cwd;
	bool mkdir_cwd;               /* create cwd if missing (main process) */
	uint32_t uid, gid;
	uint32_t *groups;
	size_t n_groups;
	bool tty, open_stdin;
	unsigned rows, cols;
	const struct guest_rlimit *rlimits;  /* borrowed from the config */
	size_t n_rlimits;
	/* a COPY process (docker cp): the guest init's own code, not argv */
	unsigned copy_op;             /* enum agent_copy_op, 0 = none */
	uint32_t copy_flags;
	char *copy_path;
};

struct init_proc {
	uint32_t id;                  /* agent stream */
	pid_t pid;                    /* 0 before start */
	int in_fd, out_fd, err_fd;    /* our ends, -1 when closed; tty: master
				       * in out_fd, in_fd a dup of it */
	bool tty;
	struct buf stdin_q;           /* bytes waiting for the process */
	bool stdin_close;             /* close in_fd once stdin_q drains */
	bool exited, exit_sent, wait_asked;
	int status, signal;           /* status as a shell reports it */
	int64_t exit_ms;              /* when it exited (CLOCK_MONOTONIC ms) */
	struct init_spec spec;        /* CREATEd, not yet STARTed */
	bool created;
	struct init_proc *next;
};

struct init {
	struct guest_cmdline cmdline;
	struct guest_config cfg;
	bool have_cfg;
	bool debug;
	bool copy_lie;                /* test mode "copyraw": COPY archives lie */
	int console;                  /* fd for init's messages */
	int agent;                    /* the agent channel, -1 = none */
	struct buf rx;                /* unparsed bytes from the agent */
	size_t rx_used;               /* bytes of rx the current frame takes */
	struct buf tx;                /* scratch for frames being sent */
	int sigfd;                    /* signalfd: SIGCHLD, SIGTERM, ... */
	int power_fd;                 /* input device with KEY_POWER, -1 */
	pid_t ns_pid;                 /* the container's PID 1 (root-ns pid) */
	char **base_env;              /* image Env merged with the user's */
	char *user_spec;              /* the main process's user spec */
	char *workdir;                /* the main process's working dir */
	struct init_proc *procs;
	size_t n_procs;
	bool shutdown;                /* SHUTDOWN received */
};

/* init.c */
void init__log(struct init *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void init__debug(struct init *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void init__poweroff(struct init *in);
void init__spec_free(struct init_spec *s);
/* Resolve user, env, cwd for a process of the running container. */
int init__resolve(struct init *in, const char *user, char *const *argv, char *const *env,
		  const char *cwd, bool tty, struct init_spec *out, struct err *e);

/* A disk by /dev path or virtio-blk serial, as its /dev path. */
int init__find_disk(const char *spec, struct buf *dev, struct err *e);

/* init_mounts.c: the configuration's bind mounts, volumes and tmpfs, made
 * under INIT_ROOT before the main process pivots into it. */
int init__mounts(struct init *in, struct err *e);
/* Before power-off, after sync: hand every free block of the volumes back
 * to the host (FITRIM).  Online discard alone is asynchronous and may
 * still be in flight when the VM ends. */
void init__mounts_trim(struct init *in);

/* init_proc.c */
/* Start p (its spec); main = the container's first process, which sets
 * up the namespaces and the root; others join them. */
int init__spawn(struct init *in, struct init_proc *p, bool main_proc, struct err *e);

/* init_copy.c: the body of a COPY process, in the container (never returns).
 * lie: the "copyraw" test mode (initrd/guest.h). */
__attribute__((noreturn)) void init__copy_run(const struct init_spec *s, bool lie);

/* init_loop.c */
/* Block the signals init handles and open in->sigfd (before any fork). */
int init__signals(struct init *in, struct err *e);
int init__agent_open(struct init *in, struct err *e);
int init__send(struct init *in, struct err *e);   /* write in->tx, reset it */
/* Read frames until CONFIG arrives; fills in->cfg. */
int init__await_config(struct init *in, struct err *e);
/* Relay until the main process (stream 1) has exited and been reported;
 * returns when it is time to power off. */
void init__loop(struct init *in);
/* The malicious-guest test mode (see initrd/guest.h). */
void init__misbehave(struct init *in, const char *modes);

#endif
