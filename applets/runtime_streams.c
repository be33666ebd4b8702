/* The runtime's table of exec'd processes (applets/runtime_int.h): each
 * client picks its own stream ids (>= 2) and the runtime gives the guest
 * ids unique across clients, so two clients cannot collide and a client
 * cannot reach another's process.  Guest ids only grow: an id the guest
 * may still know about (a process whose EXIT we did not wait for) is never
 * handed out again.  Pure logic, unit-tested by
 * t/unit/applets_runtime_streams.c; used by applets/runtime_clients.c. */
#include <errno.h>
#include <string.h>

#include "applets/runtime_int.h"

void runtime__streams_init(struct rt_streams *s)
{
	memset(s, 0, sizeof(*s));
	s->next = 2;
}

struct rt_exec *runtime__streams_by_local(struct rt_streams *s, int owner, uint32_t local)
{
	if (owner < 0)
		return NULL;
	for (size_t i = 0; i < RT_EXEC_MAX; i++)
		if (s->v[i].used && s->v[i].owner == owner && s->v[i].local == local)
			return &s->v[i];
	return NULL;
}

struct rt_exec *runtime__streams_by_guest(struct rt_streams *s, uint32_t guest)
{
	for (size_t i = 0; i < RT_EXEC_MAX; i++)
		if (s->v[i].used && s->v[i].guest == guest)
			return &s->v[i];
	return NULL;
}

int runtime__streams_add(struct rt_streams *s, int owner, uint32_t local, uint32_t *guest)
{
	struct rt_exec *free_slot = NULL;

	if (local < 2 || owner < 0)
		return -EINVAL;
	if (runtime__streams_by_local(s, owner, local))
		return -EEXIST;
	for (size_t i = 0; i < RT_EXEC_MAX && !free_slot; i++)
		if (!s->v[i].used)
			free_slot = &s->v[i];
	if (!free_slot)
		return -EAGAIN;
	if (s->next < 2 || s->next == UINT32_MAX)
		return -EOVERFLOW;
	*free_slot = (struct rt_exec){ .used = true, .owner = owner, .local = local,
				       .guest = s->next++ };
	*guest = free_slot->guest;
	return 0;
}

void runtime__streams_del(struct rt_streams *s, struct rt_exec *x)
{
	(void)s;
	if (x)
		memset(x, 0, sizeof(*x));
}
