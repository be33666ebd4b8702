/* The runtime's exec stream table (applets/runtime_streams.c): clients'
 * local ids map to unique guest ids, collisions and exhaustion are
 * refused, ids are never reused. */
#include <errno.h>

#include "applets/runtime_int.h"
#include "t/tap.h"

int main(void)
{
	struct rt_streams s;
	uint32_t g1 = 0, g2 = 0, g3 = 0, g;
	struct rt_exec *x;
	int rc, n;

	runtime__streams_init(&s);
	is_int(runtime__streams_add(&s, 0, 1, &g), -EINVAL, "stream 1 is the workload's");
	is_int(runtime__streams_add(&s, 0, 0, &g), -EINVAL, "stream 0 is the VM's");
	is_int(runtime__streams_add(&s, -1, 2, &g), -EINVAL, "no owner");
	is_int(runtime__streams_add(&s, 1, 2, &g1), 0, "client 1 stream 2");
	is_int(runtime__streams_add(&s, 2, 2, &g2), 0, "client 2 stream 2 too");
	ok(g1 >= 2 && g2 >= 2 && g1 != g2, "distinct guest ids (%u, %u)", g1, g2);
	is_int(runtime__streams_add(&s, 1, 2, &g), -EEXIST, "client 1 stream 2 again: in use");
	x = runtime__streams_by_local(&s, 2, 2);
	ok(x && x->guest == g2 && x->owner == 2, "lookup by local id");
	x = runtime__streams_by_guest(&s, g1);
	ok(x && x->owner == 1 && x->local == 2, "lookup by guest id");
	ok(!runtime__streams_by_local(&s, 3, 2), "another client does not see it");
	ok(!runtime__streams_by_local(&s, -1, 2), "nor does an orphan owner");
	ok(!runtime__streams_by_guest(&s, 1), "guest stream 1 is not an exec");

	runtime__streams_del(&s, runtime__streams_by_guest(&s, g1));
	ok(!runtime__streams_by_guest(&s, g1), "deleted");
	is_int(runtime__streams_add(&s, 1, 2, &g3), 0, "client 1 stream 2 once more");
	ok(g3 != g1 && g3 != g2, "a new guest id, never a reused one (%u)", g3);

	/* orphaned: the owner went away, the process runs on */
	x = runtime__streams_by_guest(&s, g2);
	x->owner = -1;
	ok(!runtime__streams_by_local(&s, 2, 2), "an orphan is no one's");
	is_int(runtime__streams_add(&s, 2, 2, &g), 0, "client 2 may reuse its local id");

	/* the table is bounded */
	runtime__streams_init(&s);
	n = 0;
	while ((rc = runtime__streams_add(&s, 5, (uint32_t)(100 + n), &g)) == 0)
		n++;
	is_int(n, RT_EXEC_MAX, "at most RT_EXEC_MAX at once");
	is_int(rc, -EAGAIN, "then -EAGAIN");

	runtime__streams_init(&s);
	s.next = UINT32_MAX;
	is_int(runtime__streams_add(&s, 1, 2, &g), -EOVERFLOW, "guest ids exhausted");
	return done_testing();
}
