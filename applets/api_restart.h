/* Restart policies of containers made through the API (issue #6):
 * HostConfig.RestartPolicy = no | on-failure[:N] | always | unless-stopped,
 * kept in the bundle's restart.json beside the count of restarts and
 * whether the user stopped the container:
 *
 *   { "name": "on-failure", "max": 2, "count": 1, "manual_stop": false }
 *
 * Only the API server writes it (atomically, lib/fs.h), so the policy
 * survives a restart of the server and applies to the runtimes it
 * reattaches to.  When a workload ends for good (its runtime gone) the
 * server asks here whether to start it again; a restart waits Docker's
 * backoff: 100 ms doubling per restart, capped at one minute, back to
 * 100 ms after a run of 10 s or more.  A stop, kill or rm by the user
 * cancels a pending restart and is never followed by one.
 *
 * Called by applets/api_containers.c (create, start, stop, kill, rm),
 * applets/api_ctr.c (a runtime's end, shutdown) and applets/api_ctrjson.c
 * (inspect). */
#ifndef APPLETS_API_RESTART_H
#define APPLETS_API_RESTART_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct api_sup;
struct err;

struct api_restart_policy {
	char name[16];   /* "no", "on-failure", "always", "unless-stopped" */
	long max;        /* on-failure's MaximumRetryCount; 0 = no limit */
};

/* HostConfig.RestartPolicy of a create request (body[0..len), bounded
 * like the rest of it).  Absent or Name "" = "no".  -EINVAL with a message
 * for the client (unknown name, negative count, a count with a policy
 * other than on-failure, a policy together with AutoRemove). */
int api_restart_parse(const char *body, size_t len, bool auto_remove,
		      struct api_restart_policy *out, struct err *e);
/* restart.json of a new container (not written for "no"). */
int api_restart_create(const char *id, const struct api_restart_policy *p, struct err *e);

/* The workload of container id ended and its runtime is gone; status is
 * its exit code, -1 when unknown (counts as a failure). */
void api_restart_exited(struct api_sup *s, const char *id, int status);
/* At start-up of the server: arm a restart that was pending when it died. */
void api_restart_resume(struct api_sup *s, const char *id);
/* The user started it: the count starts over, a pending restart goes. */
void api_restart_user_start(struct api_sup *s, const char *id);
/* The user stopped, killed or removed it: no restart after this run. */
void api_restart_user_stop(struct api_sup *s, const char *id);
/* The container is gone: drop its timer. */
void api_restart_forget(struct api_sup *s, const char *id);
/* Close every timer (the server is going down). */
void api_restart_shutdown(struct api_sup *s);
/* Whether a restart of id waits out its backoff (the list's "restarting"). */
bool api_restart_pending(struct api_sup *s, const char *id);
/* inspect: HostConfig.RestartPolicy, RestartCount, State.Restarting. */
void api_restart_inspect(struct api_sup *s, const char *id, json_t *doc);

#endif
