/* The Virtualization.framework backend of vm/vm.h (macOS, Apple silicon).
 *
 * UNVERIFIED: this file is compiled and linked for darwin-arm64 on every
 * build, but nothing here has a Mac, so it has never run.  Read it as a
 * careful first draft; vm/README.md says the same.
 *
 * There is no Objective-C or Swift source in the project: the framework is
 * loaded with dlopen and driven through the Objective-C runtime (objc_msgSend
 * cast to the exact function type of each message, as arm64 requires), whose
 * functions are themselves looked up with dlsym because the cross SDK has no
 * libobjc stub.  Blocks (completion handlers) are built by hand as "global"
 * block literals living in struct vm, so no -fblocks and no copying.
 * libdispatch's plain-C *_f entry points are declared here.
 *
 * The VM lives in this process, on its own serial dispatch queue; every
 * message to VZ objects is sent on that queue (dispatch_sync_f).  Devices:
 * VZLinuxBootLoader (kernel, initrd, command line), virtio block, virtio
 * console to the console log, virtio entropy, virtio-fs shares, virtio-net
 * (NAT for VM_NIC_USER, a datagram socket to the vmnet helper for
 * VM_NIC_SOCKET), and a virtio socket device: the guest agent connects to
 * the host on vsock port VM_AGENT_VSOCK_PORT and a relay thread copies that
 * connection to the caller's agent socket or fd, so the runtime sees the
 * same byte stream as with QEMU.  Needs the com.apple.security.virtualization
 * entitlement (vm/vz.entitlements; signing in vm/README.md). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/dispatch_darwin.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "vm/vm.h"

/* --- the few Objective-C runtime declarations we need (libdispatch's:
 * lib/dispatch_darwin.h) --------------------------------------------------- */

typedef struct vz_object *id;
typedef struct vz_selector *SEL;
typedef struct vz_ivar *Ivar;

/* Block ABI (clang's Block-ABI-Apple): a global block is never copied, so
 * the fields after the descriptor (our context) stay where they are. */
#define VZ_BLOCK_IS_GLOBAL (1 << 28)
#define VZ_BLOCK_HAS_SIGNATURE (1 << 30)

struct vz_block_desc {
	unsigned long reserved;
	unsigned long size;
	const char *signature;
};

struct vm;
struct vz_block {
	void *isa;
	int flags;
	int reserved;
	void (*invoke)(struct vz_block *self, id error);
	const struct vz_block_desc *desc;
	struct vm *vm;
};

/* VZVirtualMachineState */
enum { VZ_STATE_STOPPED = 0, VZ_STATE_RUNNING = 1, VZ_STATE_ERROR = 3 };

#define VZ_START_TIMEOUT_NS (30ll * 1000 * 1000 * 1000)
#define VZ_KILL_TIMEOUT_NS (10ll * 1000 * 1000 * 1000)

/* The runtime's functions, looked up once.  Immutable after vz_rt_load(),
 * so sharing it between VMs is safe. */
static struct {
	int loaded; /* 1 ok, -1 failed */
	char why[200];
	void *msgSend;
	id (*getClass)(const char *);
	SEL (*sel)(const char *);
	id (*allocateClassPair)(id super, const char *name, size_t extra);
	void (*registerClassPair)(id cls);
	bool (*addMethod)(id cls, SEL name, void (*imp)(void), const char *types);
	bool (*addIvar)(id cls, const char *name, size_t size, uint8_t align, const char *types);
	Ivar (*getIvar)(id cls, const char *name);
	ptrdiff_t (*ivarOffset)(Ivar v);
	void *(*poolPush)(void);
	void (*poolPop)(void *pool);
	id (*getProtocol)(const char *name);
	bool (*addProtocol)(id cls, id protocol);
	id delegate_cls;
	ptrdiff_t vm_ivar;
} rt;
static pthread_once_t rt_once = PTHREAD_ONCE_INIT;

/* objc_msgSend with the exact type of one message. */
#define MSG(ret, ...) ((ret(*)(id, SEL, ##__VA_ARGS__))rt.msgSend)

enum vm_state { VM_NEW, VM_RUNNING, VM_ENDED };

struct vm {
	struct vm_config *cfg;
	dispatch_queue_t queue;
	id config, machine, delegate, listener, connection;
	pthread_mutex_t lock; /* guards state, exit, start_error */
	enum vm_state state;
	struct vm_exit exit;
	char start_error[200];
	bool start_ok, stopping, killed, deadline_passed;
	dispatch_semaphore_t start_sem, kill_sem;
	struct vz_block start_block, kill_block;
	int exit_pipe[2]; /* [1] written once when the VM ends */
	int agent_fd;	  /* our dup of the caller's agent fd */
	int console_fd;
	char *tmp_kernel, *tmp_initrd; /* in-memory blobs written out for VZ */
	pthread_t relay;
	bool relay_started;
};

/* --- runtime plumbing ----------------------------------------------------- */

static SEL S(const char *name)
{
	return rt.sel(name);
}

static id C(const char *name)
{
	return rt.getClass(name);
}

static id nsstr(const char *s)
{
	return MSG(id, const char *)(C("NSString"), S("stringWithUTF8String:"), s);
}

static id file_url(const char *path)
{
	return MSG(id, id)(C("NSURL"), S("fileURLWithPath:"), nsstr(path));
}

static id alloc_init(const char *cls)
{
	id o = MSG(id)(C(cls), S("alloc"));
	return MSG(id)(o, S("init"));
}

static void release(id o)
{
	if (o)
		MSG(void)(o, S("release"));
}

static id nsarray(id *objs, size_t n)
{
	return MSG(id, id *, unsigned long)(C("NSArray"), S("arrayWithObjects:count:"), objs, n);
}

static bool responds(id o, const char *sel)
{
	return MSG(bool, SEL)(o, S("respondsToSelector:"), S(sel));
}

/* NSError -> struct err, once, at the boundary. */
static int nserr(struct err *e, id error, const char *what)
{
	const char *msg = "unknown error";
	if (error) {
		id d = MSG(id)(error, S("localizedDescription"));
		const char *s = d ? MSG(const char *)(d, S("UTF8String")) : NULL;
		if (s)
			msg = s;
	}
	return err_set(e, -EIO, "%s: %s", what, msg);
}

static struct vm *self_vm(id self)
{
	return *(struct vm **)((char *)self + rt.vm_ivar);
}

static void signal_end(struct vm *vm, enum vm_exit_reason reason, const char *detail)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->exit.reason == VM_EXIT_RUNNING) {
		vm->exit.reason = reason;
		vm->exit.status = -1;
		snprintf(vm->exit.detail, sizeof(vm->exit.detail), "%s", detail);
		char one = 1;
		ssize_t w = write(vm->exit_pipe[1], &one, 1);
		(void)w;
	}
	pthread_mutex_unlock(&vm->lock);
}

/* VZVirtualMachineDelegate: guestDidStopVirtualMachine: */
static void on_guest_stop(id self, SEL cmd, id machine)
{
	struct vm *vm = self_vm(self);
	(void)cmd;
	(void)machine;
	signal_end(vm, vm->stopping ? VM_EXIT_STOPPED : VM_EXIT_POWEROFF, "guest-shutdown");
}

/* VZVirtualMachineDelegate: virtualMachine:didStopWithError: */
static void on_error_stop(id self, SEL cmd, id machine, id error)
{
	struct err e = ERR_INIT;
	(void)cmd;
	(void)machine;
	nserr(&e, error, "stopped with an error");
	signal_end(self_vm(self), VM_EXIT_CRASHED, e.msg);
}

/* Copy bytes both ways between the vsock connection and the runtime's end
 * until either side closes. */
static void *relay_main(void *arg)
{
	struct vm *vm = arg;
	int vs = MSG(int)(vm->connection, S("fileDescriptor"));
	int fds[2] = {vs, vm->agent_fd};
	char buf[16384];

	for (;;) {
		struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN},
				      {.fd = fds[1], .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			ssize_t n = read(fds[i], buf, sizeof(buf));
			if (n <= 0 || fs_write_full(fds[1 - i], buf, (size_t)n, NULL) < 0)
				goto done;
		}
	}
done:
	shutdown(vm->agent_fd, SHUT_RDWR);
	return NULL;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

/* VZVirtioSocketListenerDelegate:
 * listener:shouldAcceptNewConnection:fromSocketDevice: — one agent
 * connection per VM; later ones are refused. */
static bool on_vsock(id self, SEL cmd, id listener, id connection, id device)
{
	struct vm *vm = self_vm(self);
	(void)cmd;
	(void)listener;
	(void)device;
	if (vm->connection)
		return false;
	if (vm->agent_fd < 0 && vm->cfg->agent_socket)
		vm->agent_fd = connect_unix(vm->cfg->agent_socket);
	if (vm->agent_fd < 0)
		return false;
	vm->connection = MSG(id)(connection, S("retain"));
	vm->relay_started = pthread_create(&vm->relay, NULL, relay_main, vm) == 0;
	return vm->relay_started;
}

static void rt_load(void)
{
	void *objc = dlopen("/usr/lib/libobjc.A.dylib", RTLD_NOW | RTLD_GLOBAL);
	void *vz = dlopen("/System/Library/Frameworks/Virtualization.framework/Virtualization",
			  RTLD_NOW | RTLD_GLOBAL);
	void *fnd = dlopen("/System/Library/Frameworks/Foundation.framework/Foundation",
			   RTLD_NOW | RTLD_GLOBAL);

	if (!objc || !vz || !fnd) {
		snprintf(rt.why, sizeof(rt.why), "cannot load %s: %s",
			 !objc ? "libobjc"
			 : !vz ? "Virtualization.framework"
			       : "Foundation",
			 dlerror());
		rt.loaded = -1;
		return;
	}
	rt.msgSend = dlsym(objc, "objc_msgSend");
	rt.getClass = (id(*)(const char *))dlsym(objc, "objc_getClass");
	rt.sel = (SEL(*)(const char *))dlsym(objc, "sel_registerName");
	rt.allocateClassPair =
	    (id(*)(id, const char *, size_t))dlsym(objc, "objc_allocateClassPair");
	rt.registerClassPair = (void (*)(id))dlsym(objc, "objc_registerClassPair");
	rt.addMethod =
	    (bool (*)(id, SEL, void (*)(void), const char *))dlsym(objc, "class_addMethod");
	rt.addIvar =
	    (bool (*)(id, const char *, size_t, uint8_t, const char *))dlsym(objc, "class_addIvar");
	rt.getIvar = (Ivar(*)(id, const char *))dlsym(objc, "class_getInstanceVariable");
	rt.ivarOffset = (ptrdiff_t(*)(Ivar))dlsym(objc, "ivar_getOffset");
	rt.poolPush = (void *(*)(void))dlsym(objc, "objc_autoreleasePoolPush");
	rt.poolPop = (void (*)(void *))dlsym(objc, "objc_autoreleasePoolPop");
	rt.getProtocol = (id(*)(const char *))dlsym(objc, "objc_getProtocol");
	rt.addProtocol = (bool (*)(id, id))dlsym(objc, "class_addProtocol");
	if (!rt.msgSend || !rt.getClass || !rt.sel || !rt.allocateClassPair ||
	    !rt.registerClassPair || !rt.addMethod || !rt.addIvar || !rt.getIvar ||
	    !rt.ivarOffset || !rt.poolPush || !rt.poolPop || !rt.getProtocol || !rt.addProtocol) {
		snprintf(rt.why, sizeof(rt.why), "libobjc lacks a runtime function");
		rt.loaded = -1;
		return;
	}
	if (!C("VZVirtualMachine")) {
		snprintf(rt.why, sizeof(rt.why),
			 "Virtualization.framework has no VZVirtualMachine");
		rt.loaded = -1;
		return;
	}
	/* One class is both the VM delegate and the vsock listener delegate;
	 * its only ivar points back to the struct vm. */
	id cls = rt.allocateClassPair(C("NSObject"), "ContainerVMDelegate", 0);
	rt.addIvar(cls, "vm", sizeof(void *), 3, "^v");
	rt.addMethod(cls, S("guestDidStopVirtualMachine:"), (void (*)(void))on_guest_stop, "v@:@");
	rt.addMethod(cls, S("virtualMachine:didStopWithError:"), (void (*)(void))on_error_stop,
		     "v@:@@");
	rt.addMethod(cls, S("listener:shouldAcceptNewConnection:fromSocketDevice:"),
		     (void (*)(void))on_vsock, "B@:@@@");
	/* Declare the protocols too, in case the framework asks. */
	const char *protos[] = {"VZVirtualMachineDelegate", "VZVirtioSocketListenerDelegate"};
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		id p = rt.getProtocol(protos[i]);
		if (p)
			rt.addProtocol(cls, p);
	}
	rt.registerClassPair(cls);
	rt.delegate_cls = cls;
	rt.vm_ivar = rt.ivarOffset(rt.getIvar(cls, "vm"));
	rt.loaded = 1;
}

const char *vm_backend_name(void)
{
	return "vz";
}

enum vm_share_fs vm_share_fs_pick(void)
{
	return VM_SHARE_VIRTIOFS;
}

int vm_create(const struct vm_config *c, struct vm **out, struct err *e)
{
	struct vm *vm;
	int r;

	if ((r = vm_config_check(c, e)) < 0)
		return r;
	if (c->arch != VM_ARCH_AARCH64)
		return err_set(e, -ENOTSUP, "Virtualization.framework runs aarch64 guests only");
	if (c->accel == VM_ACCEL_EMULATE)
		return err_set(e, -ENOTSUP, "Virtualization.framework cannot emulate");
	for (size_t i = 0; i < c->n_nics; i++) {
		int type = 0;
		socklen_t tl = sizeof(type);
		if (c->nics[i].kind == VM_NIC_TAP)
			return err_set(e, -ENOTSUP, "nic %zu: no TAP devices on macOS", i);
		/* VZFileHandleNetworkDeviceAttachment: one frame per datagram */
		if (c->nics[i].kind == VM_NIC_SOCKET &&
		    (getsockopt(c->nics[i].fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
		     type != SOCK_DGRAM))
			return err_set(e, -EINVAL, "nic %zu: fd %d is not a datagram socket", i,
				       c->nics[i].fd);
	}
	pthread_once(&rt_once, rt_load);
	if (rt.loaded < 0)
		return err_set(e, -ENOTSUP, "Virtualization.framework: %s", rt.why);
	vm = xcalloc(1, sizeof(*vm));
	vm->cfg = vm__config_dup(c);
	vm->exit_pipe[0] = vm->exit_pipe[1] = vm->agent_fd = vm->console_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	*out = vm;
	return 0;
}

/* An in-memory blob becomes a private temp file: VZ boots from URLs. */
static int blob_file(const struct vm_blob *b, const char *what, char **path, struct err *e)
{
	const char *tmp = getenv("TMPDIR");
	struct buf p = BUF_INIT;
	int fd, r;

	buf_printf(&p, "%s/container-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", what);
	if ((fd = mkstemp(p.data)) < 0) {
		r = err_sys(e, "temp file for the %s", what);
		buf_free(&p);
		return r;
	}
	r = fs_write_full(fd, b->data, b->len, e);
	close(fd);
	if (r < 0) {
		unlink(p.data);
		buf_free(&p);
		return err_wrap(e, "temp file for the %s", what);
	}
	*path = buf_steal(&p);
	return 0;
}

/* Owned (+1) NSFileHandle for fd; closes it when released. */
static id file_handle(int fd)
{
	id h = MSG(id)(C("NSFileHandle"), S("alloc"));
	return MSG(id, int, bool)(h, S("initWithFileDescriptor:closeOnDealloc:"), fd, true);
}

static id boot_loader(struct vm *vm)
{
	const struct vm_config *c = vm->cfg;
	struct buf cmd = BUF_INIT;
	id bl = MSG(id)(C("VZLinuxBootLoader"), S("alloc"));

	bl = MSG(id, id)(bl, S("initWithKernelURL:"),
			 file_url(vm->tmp_kernel ? vm->tmp_kernel : c->kernel.path));
	if (vm->tmp_initrd || c->initrd.path)
		MSG(void, id)
		(bl, S("setInitialRamdiskURL:"),
		 file_url(vm->tmp_initrd ? vm->tmp_initrd : c->initrd.path));
	buf_puts(&cmd, "console=hvc0");
	if (c->cmdline && *c->cmdline)
		buf_printf(&cmd, " %s", c->cmdline);
	MSG(void, id)(bl, S("setCommandLine:"), nsstr(buf_str(&cmd)));
	buf_free(&cmd);
	return bl;
}

static int storage(struct vm *vm, id config, struct err *e)
{
	const struct vm_config *c = vm->cfg;
	id devs[16];

	for (size_t i = 0; i < c->n_disks; i++) {
		id error = NULL;
		id att = MSG(id)(C("VZDiskImageStorageDeviceAttachment"), S("alloc"));
		att = MSG(id, id, bool, id *)(att, S("initWithURL:readOnly:error:"),
					      file_url(c->disks[i].path), c->disks[i].read_only,
					      &error);
		if (!att) {
			while (i--)
				release(devs[i]);
			return nserr(e, error, c->disks[i].path);
		}
		devs[i] = MSG(id, id)(MSG(id)(C("VZVirtioBlockDeviceConfiguration"), S("alloc")),
				      S("initWithAttachment:"), att);
		release(att);
		if (c->disks[i].serial && responds(devs[i], "setBlockDeviceIdentifier:"))
			MSG(void, id)
			(devs[i], S("setBlockDeviceIdentifier:"), nsstr(c->disks[i].serial));
	}
	MSG(void, id)(config, S("setStorageDevices:"), nsarray(devs, c->n_disks));
	for (size_t i = 0; i < c->n_disks; i++)
		release(devs[i]);
	return 0;
}

static int shares(struct vm *vm, id config, struct err *e)
{
	const struct vm_config *c = vm->cfg;
	id devs[16];

	if (c->n_shares == 0)
		return 0;
	if (c->share_fs == VM_SHARE_9P)
		return err_set(e, -ENOTSUP, "Virtualization.framework shares with virtio-fs, not 9p");
	if (!responds(config, "setDirectorySharingDevices:"))
		return err_set(e, -ENOTSUP, "shared directories need macOS 12");
	for (size_t i = 0; i < c->n_shares; i++) {
		id dir = MSG(id, id, bool)(MSG(id)(C("VZSharedDirectory"), S("alloc")),
					   S("initWithURL:readOnly:"), file_url(c->shares[i].path),
					   c->shares[i].read_only);
		id share = MSG(id, id)(MSG(id)(C("VZSingleDirectoryShare"), S("alloc")),
				       S("initWithDirectory:"), dir);
		devs[i] =
		    MSG(id, id)(MSG(id)(C("VZVirtioFileSystemDeviceConfiguration"), S("alloc")),
				S("initWithTag:"), nsstr(c->shares[i].tag));
		MSG(void, id)(devs[i], S("setShare:"), share);
		release(share);
		release(dir);
	}
	MSG(void, id)(config, S("setDirectorySharingDevices:"), nsarray(devs, c->n_shares));
	for (size_t i = 0; i < c->n_shares; i++)
		release(devs[i]);
	return 0;
}

static int network(struct vm *vm, id config, struct err *e)
{
	const struct vm_config *c = vm->cfg;
	id devs[8];

	for (size_t i = 0; i < c->n_nics; i++) {
		const struct vm_nic *n = &c->nics[i];
		id att;

		if (n->kind == VM_NIC_USER) {
			att = alloc_init("VZNATNetworkDeviceAttachment");
		} else {
			int fd = dup(n->fd);
			if (fd < 0) {
				while (i--)
					release(devs[i]);
				return err_sys(e, "nic %zu: dup", i);
			}
			id fh = file_handle(fd);
			att = MSG(id,
				  id)(MSG(id)(C("VZFileHandleNetworkDeviceAttachment"), S("alloc")),
				      S("initWithFileHandle:"), fh);
			release(fh);
		}
		devs[i] = alloc_init("VZVirtioNetworkDeviceConfiguration");
		MSG(void, id)(devs[i], S("setAttachment:"), att);
		release(att);
		if (n->mac) {
			id mac = MSG(id, id)(MSG(id)(C("VZMACAddress"), S("alloc")),
					     S("initWithString:"), nsstr(n->mac));
			MSG(void, id)(devs[i], S("setMACAddress:"), mac);
			release(mac);
		}
	}
	MSG(void, id)(config, S("setNetworkDevices:"), nsarray(devs, c->n_nics));
	for (size_t i = 0; i < c->n_nics; i++)
		release(devs[i]);
	return 0;
}

static int console(struct vm *vm, id config, struct err *e)
{
	const char *path = vm->cfg->console_log ? vm->cfg->console_log : "/dev/null";
	id port, att, fh;

	vm->console_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (vm->console_fd < 0)
		return err_sys(e, "console log %s", path);
	fh = file_handle(vm->console_fd);
	vm->console_fd = -1; /* the file handle owns it now */
	att = MSG(id, id, id)(MSG(id)(C("VZFileHandleSerialPortAttachment"), S("alloc")),
			      S("initWithFileHandleForReading:fileHandleForWriting:"), NULL, fh);
	port = alloc_init("VZVirtioConsoleDeviceSerialPortConfiguration");
	MSG(void, id)(port, S("setAttachment:"), att);
	MSG(void, id)(config, S("setSerialPorts:"), nsarray(&port, 1));
	release(port);
	release(att);
	release(fh);
	return 0;
}

/* The whole VZVirtualMachineConfiguration, validated. */
static int configure(struct vm *vm, struct err *e)
{
	const struct vm_config *c = vm->cfg;
	id config = alloc_init("VZVirtualMachineConfiguration"), error = NULL, o;
	int r;

	vm->config = config;
	o = boot_loader(vm);
	MSG(void, id)(config, S("setBootLoader:"), o);
	release(o);
	MSG(void, unsigned long)(config, S("setCPUCount:"), c->cpus);
	MSG(void, uint64_t)(config, S("setMemorySize:"), (uint64_t)c->memory_mib << 20);
	if ((r = storage(vm, config, e)) < 0 || (r = network(vm, config, e)) < 0 ||
	    (r = console(vm, config, e)) < 0 || (r = shares(vm, config, e)) < 0)
		return r;
	o = alloc_init("VZVirtioEntropyDeviceConfiguration");
	MSG(void, id)(config, S("setEntropyDevices:"), nsarray(&o, 1));
	release(o);
	if (c->agent_socket || c->agent_fd >= 0) {
		o = alloc_init("VZVirtioSocketDeviceConfiguration");
		MSG(void, id)(config, S("setSocketDevices:"), nsarray(&o, 1));
		release(o);
	}
	if (!MSG(bool, id *)(config, S("validateWithError:"), &error))
		return nserr(e, error, "VM configuration");
	return 0;
}

/* startWithCompletionHandler:'s block: ^(NSError *error) */
static void start_done(struct vz_block *b, id error)
{
	struct vm *vm = b->vm;
	struct err e = ERR_INIT;

	pthread_mutex_lock(&vm->lock);
	vm->start_ok = error == NULL;
	if (error) {
		nserr(&e, error, "start");
		snprintf(vm->start_error, sizeof(vm->start_error), "%s", e.msg);
	}
	pthread_mutex_unlock(&vm->lock);
	dispatch_semaphore_signal(vm->start_sem);
}

/* stopWithCompletionHandler:'s block: ^(NSError *error) */
static void kill_done(struct vz_block *b, id error)
{
	(void)error;
	signal_end(b->vm, VM_EXIT_KILLED,
		   b->vm->deadline_passed ? "did not power off in time; killed" : "killed");
	dispatch_semaphore_signal(b->vm->kill_sem);
}

static const struct vz_block_desc block_desc = {0, sizeof(struct vz_block), "v16@?0@8"};

static void block_init(struct vz_block *b, struct vm *vm, void (*fn)(struct vz_block *, id))
{
	b->isa = _NSConcreteGlobalBlock;
	b->flags = VZ_BLOCK_IS_GLOBAL | VZ_BLOCK_HAS_SIGNATURE;
	b->invoke = fn;
	b->desc = &block_desc;
	b->vm = vm;
}

struct call {
	struct vm *vm;
	struct err *e;
	int r;
};

/* On the VM queue: build the machine, hook delegates, start. */
static void q_start(void *arg)
{
	struct call *k = arg;
	struct vm *vm = k->vm;
	void *pool = rt.poolPush();

	if ((k->r = configure(vm, k->e)) < 0)
		goto out;
	vm->machine =
	    MSG(id, id, dispatch_queue_t)(MSG(id)(C("VZVirtualMachine"), S("alloc")),
				    S("initWithConfiguration:queue:"), vm->config, vm->queue);
	vm->delegate = MSG(id)(rt.delegate_cls, S("new"));
	*(struct vm **)((char *)vm->delegate + rt.vm_ivar) = vm;
	MSG(void, id)(vm->machine, S("setDelegate:"), vm->delegate);
	if (vm->cfg->agent_socket || vm->cfg->agent_fd >= 0) {
		id devs = MSG(id)(vm->machine, S("socketDevices"));
		id dev = MSG(id, unsigned long)(devs, S("objectAtIndex:"), 0);
		vm->listener = alloc_init("VZVirtioSocketListener");
		MSG(void, id)(vm->listener, S("setDelegate:"), vm->delegate);
		MSG(void, id, uint32_t)
		(dev, S("setSocketListener:forPort:"), vm->listener, VM_AGENT_VSOCK_PORT);
	}
	block_init(&vm->start_block, vm, start_done);
	MSG(void, struct vz_block *)
	(vm->machine, S("startWithCompletionHandler:"), &vm->start_block);
	k->r = 0;
out:
	rt.poolPop(pool);
}

int vm_start(struct vm *vm, struct err *e)
{
	const struct vm_config *c = vm->cfg;
	struct call k = {vm, e, 0};
	int r;

	if (vm->state != VM_NEW)
		return err_set(e, -EALREADY, "vm: already started");
	if (pipe(vm->exit_pipe) < 0)
		return err_sys(e, "pipe");
	fcntl(vm->exit_pipe[0], F_SETFD, FD_CLOEXEC);
	fcntl(vm->exit_pipe[1], F_SETFD, FD_CLOEXEC);
	if (c->agent_fd >= 0 && (vm->agent_fd = fcntl(c->agent_fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return err_sys(e, "agent fd");
	if (c->kernel.data && (r = blob_file(&c->kernel, "kernel", &vm->tmp_kernel, e)) < 0)
		return r;
	if (c->initrd.data && (r = blob_file(&c->initrd, "initrd", &vm->tmp_initrd, e)) < 0)
		return r;
	vm->queue = dispatch_queue_create("container.vm", NULL);
	vm->start_sem = dispatch_semaphore_create(0);
	vm->kill_sem = dispatch_semaphore_create(0);
	dispatch_sync_f(vm->queue, &k, q_start);
	if (k.r < 0)
		return k.r;
	vm->state = VM_RUNNING;
	if (dispatch_semaphore_wait(vm->start_sem,
				    dispatch_time(DISPATCH_TIME_NOW, VZ_START_TIMEOUT_NS)) != 0) {
		vm_kill(vm, NULL);
		return err_set(e, -ETIMEDOUT,
			       "vm: Virtualization.framework did not start the VM in time");
	}
	pthread_mutex_lock(&vm->lock);
	r = vm->start_ok ? 0 : err_set(e, -EIO, "vm: %s", vm->start_error);
	pthread_mutex_unlock(&vm->lock);
	if (r < 0) {
		vm->state = VM_ENDED;
		signal_end(vm, VM_EXIT_CRASHED, "did not start");
	}
	/* VZ has read them by now. */
	if (vm->tmp_kernel)
		unlink(vm->tmp_kernel);
	if (vm->tmp_initrd)
		unlink(vm->tmp_initrd);
	return r;
}

int vm_wait(struct vm *vm, int timeout_ms, struct vm_exit *out, struct err *e)
{
	struct pollfd p = {.fd = vm->exit_pipe[0], .events = POLLIN};
	int r;

	if (vm->state == VM_NEW)
		return err_set(e, -EINVAL, "vm: not started");
	if (vm->state == VM_RUNNING) {
		while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
			;
		if (r < 0)
			return err_sys(e, "wait for the VM");
		if (r == 0)
			return err_set(e, -ETIMEDOUT, "vm: still running");
		vm->state = VM_ENDED;
	}
	if (out) {
		pthread_mutex_lock(&vm->lock);
		*out = vm->exit;
		pthread_mutex_unlock(&vm->lock);
	}
	return 0;
}

static void q_kill(void *arg)
{
	struct vm *vm = arg;

	block_init(&vm->kill_block, vm, kill_done);
	MSG(void, struct vz_block *)(vm->machine, S("stopWithCompletionHandler:"), &vm->kill_block);
}

int vm_kill(struct vm *vm, struct err *e)
{
	struct pollfd p = {.fd = vm->exit_pipe[0], .events = POLLIN};

	if (vm->state != VM_RUNNING || poll(&p, 1, 0) > 0)
		return 0;
	if (!responds(vm->machine, "stopWithCompletionHandler:"))
		return err_set(e, -ENOTSUP, "vm: forced stop needs macOS 12");
	vm->killed = true;
	dispatch_sync_f(vm->queue, vm, q_kill);
	if (dispatch_semaphore_wait(vm->kill_sem, dispatch_time(DISPATCH_TIME_NOW, VZ_KILL_TIMEOUT_NS)) !=
	    0)
		return err_set(e, -ETIMEDOUT, "vm: Virtualization.framework did not stop the VM");
	return 0;
}

static void q_request_stop(void *arg)
{
	struct call *k = arg;
	id error = NULL;

	if (!MSG(bool, id *)(k->vm->machine, S("requestStopWithError:"), &error))
		k->r = nserr(k->e, error, "power button");
}

int vm__power_button(struct vm *vm, struct err *e)
{
	struct err qe = ERR_INIT;
	struct call k = {vm, &qe, 0};

	if (vm->state == VM_NEW)
		return err_set(e, -EINVAL, "vm: not started");
	if (vm->state == VM_ENDED)
		return 1;
	vm->stopping = true;
	dispatch_sync_f(vm->queue, &k, q_request_stop);
	return k.r == 0 ? 0 : 2;
}

int vm__kill_late(struct vm *vm, struct err *e)
{
	vm->deadline_passed = true;
	return vm_kill(vm, e);
}

int vm_event_fd(const struct vm *vm)
{
	return vm->exit_pipe[0];
}

pid_t vm_pid(const struct vm *vm)
{
	(void)vm;
	return -1;
}

static void q_release(void *arg)
{
	struct vm *vm = arg;

	release(vm->connection);
	release(vm->listener);
	release(vm->machine);
	release(vm->delegate);
	release(vm->config);
}

void vm_free(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->state == VM_RUNNING) {
		vm_kill(vm, NULL);
		vm_wait(vm, -1, NULL, NULL);
	}
	if (vm->agent_fd >= 0)
		shutdown(vm->agent_fd, SHUT_RDWR);
	if (vm->relay_started)
		pthread_join(vm->relay, NULL);
	if (vm->queue) {
		dispatch_sync_f(vm->queue, vm, q_release);
		dispatch_release(vm->queue);
	}
	if (vm->start_sem)
		dispatch_release(vm->start_sem);
	if (vm->kill_sem)
		dispatch_release(vm->kill_sem);
	for (int i = 0; i < 2; i++)
		if (vm->exit_pipe[i] >= 0)
			close(vm->exit_pipe[i]);
	if (vm->agent_fd >= 0)
		close(vm->agent_fd);
	if (vm->tmp_kernel)
		unlink(vm->tmp_kernel);
	if (vm->tmp_initrd)
		unlink(vm->tmp_initrd);
	free(vm->tmp_kernel);
	free(vm->tmp_initrd);
	pthread_mutex_destroy(&vm->lock);
	vm__config_free(vm->cfg);
	free(vm);
}
