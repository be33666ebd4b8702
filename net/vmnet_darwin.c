/* net/vmnet.h on macOS: a vmnet.framework interface in shared mode per
 * network, bridged to the VMs' datagram sockets (net/vport.c), as
 * lima-vm/socket_vmnet does.
 *
 * UNVERIFIED: compiled and linked for darwin-arm64 on every build, never
 * run (nothing here has a Mac).  The switch and the ports it drives are
 * unit-tested and fuzzed on Linux; this file is only the vmnet glue.
 *
 * zig's macOS SDK has no vmnet headers and the framework is not linked:
 * it is dlopen'ed and its functions and key strings found with dlsym (the
 * binary then starts on any macOS, and says why networking cannot).  xpc
 * and libdispatch are libSystem and linked directly; their few prototypes
 * are declared here.  vmnet's callbacks are blocks: built by hand as
 * global block literals living in struct vmnet (never copied, so the
 * context after the descriptor stays put), as vm/vz.c does.
 *
 * Addresses: the guest is configured statically from our IPAM (.2 up),
 * never by vmnet's DHCP.  vmnet's start address is the host's address on
 * the interface, i.e. the network's gateway (.1); its DHCP pool is
 * (start, end].  We ask for end = start, an empty pool, so vmnet's DHCP
 * server can never hand one of our addresses to a client that asks (a VM
 * of another program sharing the interface).  If vmnet refuses that, the
 * pool becomes .2 .. broadcast-1 and a warning says that DHCP clients of
 * other programs on this subnet could then collide with our containers;
 * our own guests never ask.  Threads: vmnet calls back on our serial
 * queue; frames from vmnet enter the switch there, frames to vmnet leave
 * from the helper's loop thread (vmnet_write). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/dispatch_darwin.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/addr.h"
#include "net/network.h"
#include "net/vmnet.h"
#include "net/vport.h"

/* --- libSystem: xpc (libdispatch: lib/dispatch_darwin.h) ------------------- */

typedef void *xpc_object_t;

extern xpc_object_t xpc_dictionary_create(const char *const *keys, const xpc_object_t *values,
					  size_t count);
extern void xpc_dictionary_set_uint64(xpc_object_t d, const char *key, uint64_t v);
extern void xpc_dictionary_set_string(xpc_object_t d, const char *key, const char *v);
extern uint64_t xpc_dictionary_get_uint64(xpc_object_t d, const char *key);
extern const char *xpc_dictionary_get_string(xpc_object_t d, const char *key);
extern void xpc_release(xpc_object_t o);
#define VN_START_TIMEOUT_NS (30ll * 1000 * 1000 * 1000)
#define VN_STOP_TIMEOUT_NS (10ll * 1000 * 1000 * 1000)

/* --- vmnet.framework (vmnet/vmnet.h, declared from Apple's documentation) --- */

typedef struct vn_interface *interface_ref;
typedef uint32_t vmnet_return_t;

enum {
	VMNET_SUCCESS = 1000,
	VMNET_FAILURE,
	VMNET_MEM_FAILURE,
	VMNET_INVALID_ARGUMENT,
	VMNET_SETUP_INCOMPLETE,
	VMNET_INVALID_ACCESS,
	VMNET_PACKET_TOO_BIG,
	VMNET_BUFFER_EXHAUSTED,
	VMNET_TOO_MANY_PACKETS,
	VMNET_SHARING_SERVICE_BUSY,
	VMNET_NOT_AUTHORIZED,
};
#define VMNET_SHARED_MODE 1001u		     /* operating_modes_t */
#define VMNET_INTERFACE_PACKETS_AVAILABLE 1u /* interface_event_t */

struct vmpktdesc {
	size_t vm_pkt_size;
	struct iovec *vm_pkt_iov;
	uint32_t vm_pkt_iovcnt;
	uint32_t vm_flags;
};

/* Block ABI: flags, and a descriptor without copy/dispose helpers. */
#define VN_BLOCK_IS_GLOBAL (1 << 28)

struct vmnet;
struct vn_block_desc {
	unsigned long reserved;
	unsigned long size;
};
struct vn_block {
	void *isa;
	int flags;
	int reserved;
	void (*invoke)(void); /* cast to the block's real signature by vmnet */
	const struct vn_block_desc *desc;
	struct vmnet *v;
};

static const struct vn_block_desc block_desc = {0, sizeof(struct vn_block)};

/* The framework's entry points and key strings, looked up once. */
static struct {
	int loaded; /* 1 ok, -1 failed */
	char why[200];
	interface_ref (*start)(xpc_object_t desc, dispatch_queue_t q, struct vn_block *done);
	vmnet_return_t (*stop)(interface_ref i, dispatch_queue_t q, struct vn_block *done);
	vmnet_return_t (*read)(interface_ref i, struct vmpktdesc *p, int *count);
	vmnet_return_t (*write)(interface_ref i, struct vmpktdesc *p, int *count);
	vmnet_return_t (*set_event_callback)(interface_ref i, uint32_t mask, dispatch_queue_t q,
					     struct vn_block *cb);
	const char *k_mode, *k_start, *k_end, *k_mask, *k_mtu, *k_max_packet, *k_mac, *k_estimated;
} vn;
static pthread_once_t vn_once = PTHREAD_ONCE_INIT;

#define VN_BATCH 32	  /* packets per vmnet_read */
#define VN_BATCHES_MAX 16 /* per event, so one flood cannot hold the queue */

struct vmnet {
	struct vport_server *srv;
	dispatch_queue_t q;
	dispatch_semaphore_t sem;
	interface_ref iface;
	struct vn_block start_b, event_b, stop_b;
	vmnet_return_t status;
	uint64_t max_packet, mtu;
	char mac[VSWITCH_MAC_STRLEN];
	uint8_t *bufs; /* VN_BATCH * max_packet */
	struct vmpktdesc pd[VN_BATCH];
	struct iovec iov[VN_BATCH];
};

static const char *vn_strerror(vmnet_return_t r)
{
	static const char *const names[] = {
	    "success",
	    "failure",
	    "out of memory",
	    "invalid argument",
	    "setup incomplete",
	    "access denied (vmnet needs root, or the com.apple.vm.networking entitlement)",
	    "packet too big",
	    "buffer exhausted",
	    "too many packets",
	    "the sharing service is busy (another program uses this subnet differently?)",
	    "not authorized (vmnet needs root, or the com.apple.vm.networking entitlement)",
	};
	if (r >= VMNET_SUCCESS && r - VMNET_SUCCESS < sizeof(names) / sizeof(*names))
		return names[r - VMNET_SUCCESS];
	return "unknown status";
}

static const char *key(void *lib, const char *name)
{
	const char *const *p = dlsym(lib, name);
	return p ? *p : NULL;
}

static void vn_load(void)
{
	void *lib =
	    dlopen("/System/Library/Frameworks/vmnet.framework/vmnet", RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		snprintf(vn.why, sizeof(vn.why), "cannot load vmnet.framework: %s", dlerror());
		vn.loaded = -1;
		return;
	}
	vn.start = (interface_ref(*)(xpc_object_t, dispatch_queue_t, struct vn_block *))dlsym(
	    lib, "vmnet_start_interface");
	vn.stop = (vmnet_return_t(*)(interface_ref, dispatch_queue_t, struct vn_block *))dlsym(
	    lib, "vmnet_stop_interface");
	vn.read =
	    (vmnet_return_t(*)(interface_ref, struct vmpktdesc *, int *))dlsym(lib, "vmnet_read");
	vn.write =
	    (vmnet_return_t(*)(interface_ref, struct vmpktdesc *, int *))dlsym(lib, "vmnet_write");
	vn.set_event_callback =
	    (vmnet_return_t(*)(interface_ref, uint32_t, dispatch_queue_t, struct vn_block *))dlsym(
		lib, "vmnet_interface_set_event_callback");
	vn.k_mode = key(lib, "vmnet_operation_mode_key");
	vn.k_start = key(lib, "vmnet_start_address_key");
	vn.k_end = key(lib, "vmnet_end_address_key");
	vn.k_mask = key(lib, "vmnet_subnet_mask_key");
	vn.k_mtu = key(lib, "vmnet_mtu_key"); /* macOS 11+: optional */
	vn.k_max_packet = key(lib, "vmnet_max_packet_size_key");
	vn.k_mac = key(lib, "vmnet_mac_address_key");
	vn.k_estimated = key(lib, "vmnet_estimated_packets_available_key");
	if (!vn.start || !vn.stop || !vn.read || !vn.write || !vn.set_event_callback ||
	    !vn.k_mode || !vn.k_start || !vn.k_end || !vn.k_mask || !vn.k_max_packet) {
		snprintf(vn.why, sizeof(vn.why),
			 "vmnet.framework lacks a function or key we need "
			 "(macOS 10.15 or later)");
		vn.loaded = -1;
		return;
	}
	vn.loaded = 1;
}

static void block_init(struct vn_block *b, struct vmnet *v, void (*fn)(void))
{
	*b = (struct vn_block){_NSConcreteGlobalBlock, VN_BLOCK_IS_GLOBAL, 0, fn, &block_desc, v};
}

/* ^(vmnet_return_t status, xpc_object_t param), on v->q */
static void start_done(struct vn_block *b, vmnet_return_t status, xpc_object_t param)
{
	struct vmnet *v = b->v;

	v->status = status;
	if (status == VMNET_SUCCESS && param) {
		const char *mac = vn.k_mac ? xpc_dictionary_get_string(param, vn.k_mac) : NULL;
		v->max_packet = xpc_dictionary_get_uint64(param, vn.k_max_packet);
		v->mtu = vn.k_mtu ? xpc_dictionary_get_uint64(param, vn.k_mtu) : 0;
		snprintf(v->mac, sizeof(v->mac), "%s", mac ? mac : "?");
	}
	dispatch_semaphore_signal(v->sem);
}

/* ^(vmnet_return_t status), on v->q */
static void stop_done(struct vn_block *b, vmnet_return_t status)
{
	b->v->status = status;
	dispatch_semaphore_signal(b->v->sem);
}

/* ^(interface_event_t event, xpc_object_t info), on v->q: frames from
 * the host and the world, into the switch. */
static void on_packets(struct vn_block *b, uint32_t event, xpc_object_t info)
{
	struct vmnet *v = b->v;

	(void)info;
	if (!(event & VMNET_INTERFACE_PACKETS_AVAILABLE))
		return;
	for (int round = 0; round < VN_BATCHES_MAX; round++) {
		int n = VN_BATCH;
		for (int i = 0; i < VN_BATCH; i++) {
			v->iov[i] =
			    (struct iovec){v->bufs + (size_t)i * v->max_packet, v->max_packet};
			v->pd[i] = (struct vmpktdesc){v->max_packet, &v->iov[i], 1, 0};
		}
		if (vn.read(v->iface, v->pd, &n) != VMNET_SUCCESS || n <= 0)
			return;
		for (int i = 0; i < n && i < VN_BATCH; i++)
			if (v->pd[i].vm_pkt_size <= v->max_packet)
				vport_server_uplink_input(v->srv, v->iov[i].iov_base,
							  v->pd[i].vm_pkt_size);
		if (n < VN_BATCH)
			return;
	}
}

/* A frame from a VM for the host or the world: helper loop thread. */
static void uplink_send(void *ctx, const uint8_t *frame, size_t len)
{
	struct vmnet *v = ctx;
	struct iovec iov = {(void *)frame, len};
	struct vmpktdesc pd = {len, &iov, 1, 0};
	int n = 1;

	vn.write(v->iface, &pd, &n); /* a refused frame is a lost frame */
}

/* Start the interface with the pool (start, end]; the vmnet status. */
static vmnet_return_t start_iface(struct vmnet *v, const struct net_network *n, bool empty_pool,
				  struct err *e)
{
	uint32_t mask = 0xffffffffu << (32 - n->subnet.prefix);
	uint32_t last = (n->subnet.addr | ~mask) - 1;
	char start[NET_IP_STRLEN], end[NET_IP_STRLEN], smask[NET_IP_STRLEN];
	xpc_object_t d = xpc_dictionary_create(NULL, NULL, 0);

	net_ip_format(n->gateway, start);
	net_ip_format(empty_pool ? n->gateway : last, end);
	net_ip_format(mask, smask);
	xpc_dictionary_set_uint64(d, vn.k_mode, VMNET_SHARED_MODE);
	xpc_dictionary_set_string(d, vn.k_start, start);
	xpc_dictionary_set_string(d, vn.k_end, end);
	xpc_dictionary_set_string(d, vn.k_mask, smask);
	if (vn.k_mtu && n->mtu != NET_MTU)
		xpc_dictionary_set_uint64(d, vn.k_mtu, n->mtu);
	v->status = VMNET_FAILURE;
	block_init(&v->start_b, v, (void (*)(void))start_done);
	v->iface = vn.start(d, v->q, &v->start_b);
	if (v->iface &&
	    dispatch_semaphore_wait(v->sem, dispatch_time(DISPATCH_TIME_NOW, VN_START_TIMEOUT_NS)) != 0) {
		/* the block still refers to v: it must outlive a late answer */
		xpc_release(d);
		err_set(e, -ETIMEDOUT, "vmnet did not start the interface in time");
		return VMNET_SETUP_INCOMPLETE;
	}
	xpc_release(d);
	if (!v->iface)
		v->status = VMNET_INVALID_ARGUMENT;
	if (v->status != VMNET_SUCCESS)
		err_set(e, -EIO, "vmnet, shared mode on %s/%u (pool up to %s): %s", start,
			n->subnet.prefix, end, vn_strerror(v->status));
	return v->status;
}

int vmnet_start(uv_loop_t *loop, const struct net_network *n, struct vmnet **out, struct err *e)
{
	_cleanup_buf_ struct buf path = BUF_INIT;
	struct vport_uplink up;
	struct vmnet *v;
	vmnet_return_t st;
	size_t frame_max;
	int rc;

	*out = NULL;
	pthread_once(&vn_once, vn_load);
	if (vn.loaded < 0)
		return err_set(e, -ENOTSUP, "%s", vn.why);
	if ((rc = vport_path(n->bridge, &path, e)) < 0)
		return rc;
	v = xcalloc(1, sizeof(*v));
	v->q = dispatch_queue_create("container.vmnet", NULL);
	v->sem = dispatch_semaphore_create(0);
	st = start_iface(v, n, true, e);
	if (st == VMNET_INVALID_ARGUMENT) {
		log_warn("network %s: vmnet refused an empty DHCP pool; its DHCP now serves up to "
			 "the broadcast address, so other programs' DHCP clients on this subnet "
			 "could take our containers' addresses",
			 n->name);
		err_clear(e);
		st = start_iface(v, n, false, e);
	}
	if (st == VMNET_SETUP_INCOMPLETE)
		return e->code; /* v leaks on purpose: vmnet may still call its block */
	if (st != VMNET_SUCCESS) {
		dispatch_release(v->sem);
		dispatch_release(v->q);
		free(v);
		return e->code;
	}
	if (v->max_packet < VSWITCH_ETH_HDR + 1 || v->max_packet > VSWITCH_FRAME_MAX)
		v->max_packet = n->mtu + VSWITCH_ETH_HDR + 4;
	frame_max = v->max_packet;
	v->bufs = xcalloc(VN_BATCH, v->max_packet);
	up = (struct vport_uplink){uplink_send, v};
	if ((rc = vport_server_start(loop, buf_str(&path), frame_max, &up, &v->srv, e)) < 0) {
		vmnet_stop(v);
		return rc;
	}
	block_init(&v->event_b, v, (void (*)(void))on_packets);
	if ((st = vn.set_event_callback(v->iface, VMNET_INTERFACE_PACKETS_AVAILABLE, v->q,
					&v->event_b)) != VMNET_SUCCESS) {
		vmnet_stop(v);
		return err_set(e, -EIO, "vmnet: packet events: %s", vn_strerror(st));
	}
	log_info("network %s: vmnet interface up (mac %s, mtu %llu, max packet %llu), VMs on %s",
		 n->name, v->mac, (unsigned long long)v->mtu, (unsigned long long)v->max_packet,
		 buf_str(&path));
	*out = v;
	return 0;
}

void vmnet_stop(struct vmnet *v)
{
	if (!v)
		return;
	if (v->iface) {
		vn.set_event_callback(v->iface, VMNET_INTERFACE_PACKETS_AVAILABLE, NULL, NULL);
		block_init(&v->stop_b, v, (void (*)(void))stop_done);
		/* the answer comes on v->q after any event callback in flight, so
		 * once it is in nothing feeds the ports any more */
		if (vn.stop(v->iface, v->q, &v->stop_b) == VMNET_SUCCESS &&
		    dispatch_semaphore_wait(v->sem,
					    dispatch_time(DISPATCH_TIME_NOW, VN_STOP_TIMEOUT_NS)) != 0) {
			log_warn("vmnet did not stop the interface in time");
			return; /* v stays: its blocks may still run */
		}
	}
	vport_server_close(v->srv);
	dispatch_release(v->sem);
	dispatch_release(v->q);
	free(v->bufs);
	free(v);
}
