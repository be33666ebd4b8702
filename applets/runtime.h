/* The runtime role, `container-runtime ID` (or `container runtime ID`):
 * one process per container, owning its VM (DESIGN.md "A container's
 * life").  Started by `container run` today and by the API server in #6.
 *
 * Invocation:
 *   container runtime [--attach-fd N] [--debug] ID
 *     ID            a full container id whose bundle exists (applets/bundle.h)
 *     --attach-fd N an inherited connected stream socket: the one client,
 *                   attached from the first byte (foreground `run`).
 *                   Without it the workload's stdin is closed and its
 *                   output goes only to stdio.log (`run -d`).
 *   The process runs in the foreground of its own process (the caller
 *   setsid()s and redirects stdio: to runtime.log for -d); exit code 0
 *   when the workload ran (whatever its status), 1 when the container
 *   could not be started or the VM ended without an exit status.
 *
 * What it does: reads config.json; makes rw.ext4 (empty, rw_size, sparse)
 * unless read_only; resolves the kernel (initrd/blobs.h) and the embedded
 * initramfs for the arch; boots the VM (vm/vm.h) with disks
 * [image snapshot read-only serial "image", rw.ext4 serial "rw"], console
 * to boot.log, the agent channel on a socketpair; answers the guest's
 * HELLO with HELLO + CONFIG (the bundle's "guest" document plus clock_ns,
 * image_dev "image", rw_dev "rw", fstype "ext4"); relays stdio; writes
 * state.json at start and at exit; on SIGTERM/SIGINT stops the workload
 * (SIGNAL SIGTERM to process 1, SIGKILL after 10 s, vm_kill 3 s later if
 * the guest does not end; its EXIT brings SHUTDOWN).  With auto_remove it deletes the bundle after the VM ended.
 *
 * Environment:
 *   CONTAINER_INITRAMFS=PATH  a cpio initramfs replacing the embedded one
 *                 (tests and development of the guest init only)
 *   CONTAINER_BOOT_TIMEOUT_MS=N  replaces RUNTIME_BOOT_TIMEOUT_MS (tests)
 *   CONTAINER_START_NS=N  CLOCK_MONOTONIC ns when the creating command
 *                 started (set by `run`): the "create" phase ends at the
 *                 runtime's own start
 *   CONTAINER_TIMINGS=1  at exit, one line on stderr for benchmarks:
 *                 runtime: timings ms create=.. prep=.. spawn=.. boot=..
 *                 start=.. run=.. teardown=.. rss_kib=..
 *                 create: the creator's image lookup, bundle and spawn of
 *                 this process; prep: start to writable disk ready; spawn: to vm_start
 *                 returned; boot: to the guest's HELLO; start: to CONFIG's
 *                 OK (workload running); run: to its EXIT; teardown: to
 *                 the VM's end; -1 = not reached.  rss_kib is the role's
 *                 peak RSS (VmHWM).  The same numbers always go to
 *                 state.json's "timings".
 *   The kernel command line gets "container.agent=virtio panic=-1", then
 *   "quiet" (or "container.debug=1" with --debug), then vm.kernel_args.
 *
 * Clients.  Two ways in, one protocol: agent frames (initrd/agent.h), the
 * same codec as the guest channel, stream 1 = the workload.
 *   --attach-fd   the creator (foreground `run`): greeted with the
 *                 runtime's HELLO before anything else, needs no HELLO of
 *                 its own.  Its going away closes the workload's stdin.
 *   the socket    $RUN/runtime-<first 12 hex of id>.sock (lib/paths.h;
 *                 dir 0700, socket 0600; removed when the runtime ends;
 *                 a path of 104 bytes or more is refused at start with a
 *                 hint, macOS's sun_path limit).  At most
 *                 RUNTIME_SOCKET_CLIENTS_MAX at once; one more is sent
 *                 ERROR -EUSERS and closed.  The client speaks first:
 *                 HELLO (min_version..max_version must include
 *                 AGENT_VERSION, else ERROR -EPROTONOSUPPORT and close;
 *                 anything else first: ERROR -EPROTO and close); the
 *                 runtime answers HELLO, then OK stream 1 once the
 *                 workload runs.  Requests sent before that OK are held.
 *   runtime -> client   HELLO (agent "container-runtime VERSION")
 *                       OK stream 1: the workload runs (`run -d` waits
 *                         for it, then detaches)
 *                       STDOUT/STDERR stream 1 (EOF flag when it ends), to
 *                         every client past HELLO (fan-out)
 *                       EXIT stream 1: sent only after the VM has ended
 *                         and the bundle is cleaned up, so a client that
 *                         got EXIT may exit at once and leave nothing
 *                         running
 *                       ERROR stream 0: fatal, with a message for the
 *                         user ("no kernel for aarch64: …", "the VM ended
 *                         without an exit status: see container logs
 *                         --boot ID"); the runtime then closes
 *                       ERROR stream N: a request on N failed (the code is
 *                         a negative errno: -ESRCH no such process,
 *                         -EEXIST stream id in use, -ENOTSUP not a request
 *                         the runtime takes, or the guest's own)
 *   client -> runtime   stream 1: STDIN (EOF flag = close stdin),
 *                       CLOSE_STDIN, RESIZE, SIGNAL: to the workload
 *                       stream N >= 2, exec (the client picks N; the runtime
 *                       maps (client, N) to a guest id unique across
 *                       clients and never reused): CREATE, then START,
 *                       STDIN, CLOSE_STDIN, RESIZE, SIGNAL, WAIT.  The
 *                       guest's OK/ERROR/STDOUT/STDERR/EXIT for it go to
 *                       that client only, on its N.  At most RT_EXEC_MAX
 *                       (64) exec'd processes at once.  A client that goes
 *                       away: its processes run on with stdin closed and
 *                       their output dropped (docker exec's behaviour).
 *                       stream 0: STATS -> STATS_REPLY stream 0 to that
 *                       client (one pending per client: -EBUSY);
 *                       SHUTDOWN = kill the container: SIGKILL to the
 *                       workload (status 137), the guest powers off, the
 *                       VM is killed if it has not ended 3 s later.
 * Stopping: `container stop -t T` sends SIGNAL SIGTERM (or -s) on stream
 *   1, waits T s for EXIT, then SHUTDOWN; the timeout is the client's (the
 *   API server's later), so a stop whose client dies only delivered its
 *   signal.  SIGTERM/SIGINT/SIGHUP to the runtime process itself keep the
 *   built-in grace: SIGTERM to the workload, SIGKILL after
 *   RUNTIME_STOP_GRACE_MS, a second signal kills at once.
 * Output fan-out and slow clients: each client has its own write queue.
 *   While one is over its bound (RUNTIME_CLIENT_QUEUE_MAX for --attach-fd,
 *   RUNTIME_SOCKET_QUEUE_MAX for a socket client) the runtime stops
 *   reading the guest, so a slow reader slows the producer as a pipe
 *   would, memory stays bounded and nothing is lost.  A socket client
 *   over its bound for RUNTIME_CLIENT_STALL_MS is detached (closed), so
 *   a stuck one delays the others by at most that; the --attach-fd client
 *   (a terminal, possibly paused with ^S) is never detached for that.
 *   Client reads stop while more than 1 MiB waits for the guest.
 *   At the end each client gets CLIENT_DRAIN_MS of no progress to take
 *   its EXIT, then is closed.
 */
#ifndef APPLETS_RUNTIME_H
#define APPLETS_RUNTIME_H

struct buf;
struct err;

/* The role's peak RSS stays under 8 MiB with these bounds: this queue, a
 * frame-sized read buffer per channel, and the stdin queue to the guest
 * (RT_GUEST_QUEUE_MAX, 1 MiB). */
#define RUNTIME_CLIENT_QUEUE_MAX (4u << 20)
#define RUNTIME_STOP_GRACE_MS 10000
/* Socket clients at once (besides --attach-fd), the backlog each may
 * have, and how long it may stay over it before it is detached. */
#define RUNTIME_SOCKET_CLIENTS_MAX 16
#define RUNTIME_SOCKET_QUEUE_MAX (1u << 20)
#define RUNTIME_CLIENT_STALL_MS 2000
/* From the VMM's start to the workload running, at most (emulated arm64
 * boots take seconds; a hung kernel would otherwise run for ever). */
#define RUNTIME_BOOT_TIMEOUT_MS 120000

/* For clients: the runtime socket's path of container id (appended to
 * out), and a connected socket to it (-ESRCH "not running" when nothing
 * listens there).  RUNTIME_CONNECT_NONBLOCK (the API server's loop): the
 * socket is non-blocking and a runtime whose backlog is full, i.e. not
 * accepting, is -EBUSY rather than waited for. */
#define RUNTIME_CONNECT_NONBLOCK 1
int runtime_socket_path(const char *id, struct buf *out, struct err *e);
int runtime_connect(const char *id, int flags, int *out_fd, struct err *e);

#endif
