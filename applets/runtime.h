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
 * state.json at start and at exit; on SIGTERM/SIGINT asks the guest to
 * shut down (SIGNAL SIGTERM to process 1, then SHUTDOWN after 10 s, then
 * vm_kill).  With auto_remove it deletes the bundle after the VM ended.
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
 * Client protocol on the attach socket: agent frames (initrd/agent.h),
 * the same codec as the guest channel, stream 1 = the workload.
 *   runtime -> client   HELLO (agent "container-runtime VERSION")
 *                       OK stream 1: the workload runs (`run -d` waits
 *                         for it, then detaches)
 *                       STDOUT/STDERR stream 1 (EOF flag when it ends)
 *                       EXIT stream 1: sent only after the VM has ended
 *                         and the bundle is cleaned up, so a client that
 *                         got EXIT may exit at once and leave nothing
 *                         running
 *                       ERROR stream 0: fatal, with a message for the
 *                         user ("no kernel for aarch64: …", "the VM ended
 *                         without an exit status: see container logs
 *                         --boot ID"); the runtime then closes
 *   client -> runtime   STDIN stream 1 (EOF flag = close stdin)
 *                       RESIZE stream 1, SIGNAL stream 1
 *                       (forwarded to the guest after validation)
 * The client closing its end = detach: stdin is closed, the container
 * keeps running, output goes on to stdio.log.  Output to a slow client is
 * bounded: the runtime stops reading the guest while more than
 * RUNTIME_CLIENT_QUEUE_MAX bytes wait for the client.
 */
#ifndef APPLETS_RUNTIME_H
#define APPLETS_RUNTIME_H

/* The role's peak RSS stays under 8 MiB with these bounds: this queue, a
 * frame-sized read buffer per channel, and the stdin queue to the guest
 * (RT_GUEST_QUEUE_MAX, 1 MiB). */
#define RUNTIME_CLIENT_QUEUE_MAX (4u << 20)
#define RUNTIME_STOP_GRACE_MS 10000
/* From the VMM's start to the workload running, at most (emulated arm64
 * boots take seconds; a hung kernel would otherwise run for ever). */
#define RUNTIME_BOOT_TIMEOUT_MS 120000

#endif
