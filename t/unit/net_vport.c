/* net/vport.c: VMs attach over the unix socket and get a datagram socket
 * by SCM_RIGHTS; frames are switched between them and a fake uplink;
 * hostile hellos, duplicate MACs and oversized frames are refused; a
 * closed control connection frees the port.  The server's loop runs in a
 * thread, as the helper's does beside vmnet's dispatch queue. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "net/vport.h"
#include "t/tap.h"

static uv_loop_t loop;
static uv_async_t stop_async;
static struct vport_server *srv;
static pthread_mutex_t up_lock = PTHREAD_MUTEX_INITIALIZER;
static int up_frames;
static uint8_t up_last[2048];
static size_t up_last_len;

static const char *MAC1 = "02:42:c0:a8:40:02", *MAC2 = "02:42:c0:a8:40:03";
static const uint8_t M1[6] = {0x02, 0x42, 0xc0, 0xa8, 0x40, 0x02};
static const uint8_t M2[6] = {0x02, 0x42, 0xc0, 0xa8, 0x40, 0x03};
static const uint8_t HOST[6] = {0x3e, 0x22, 0xfb, 0x00, 0x00, 0x01};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void up_send(void *ctx, const uint8_t *f, size_t n)
{
	(void)ctx;
	pthread_mutex_lock(&up_lock);
	up_frames++;
	up_last_len = n < sizeof(up_last) ? n : sizeof(up_last);
	memcpy(up_last, f, up_last_len);
	pthread_mutex_unlock(&up_lock);
}

static int uplink_count(void)
{
	pthread_mutex_lock(&up_lock);
	int n = up_frames;
	pthread_mutex_unlock(&up_lock);
	return n;
}

static void on_stop(uv_async_t *a)
{
	vport_server_close(srv);
	uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *arg)
{
	(void)arg;
	uv_run(&loop, UV_RUN_DEFAULT);
	return NULL;
}

static size_t mk(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint8_t tag, size_t len)
{
	memset(f, tag, len);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	return len;
}

/* The next datagram on fd (2 s at most), its length or -1. */
static ssize_t next(int fd, uint8_t *buf, size_t cap)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 2000) != 1)
		return -1;
	return recv(fd, buf, cap, 0);
}

/* A raw client: connect, send text, read the reply text (and close any fd). */
static int raw(const char *path, const void *text, size_t n, char *reply, size_t cap)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pollfd p;
	ssize_t r;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memcpy(sa.sun_path, path, strlen(path));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, text, n) != (ssize_t)n)
		return -1;
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	reply[0] = '\0';
	if (poll(&p, 1, 2000) == 1 && (r = read(fd, reply, cap - 1)) >= 0)
		reply[r] = '\0';
	close(fd);
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/vport-XXXXXX", reply[256], big[VPORT_HELLO_MAX + 8];
	struct err e = ERR_INIT;
	struct buf path = BUF_INIT, rp = BUF_INIT;
	struct vport_uplink up = {up_send, NULL};
	struct vswitch_stats st;
	uint8_t f[2048], g[2048];
	pthread_t th;
	int fd1, ctl1, fd2, ctl2, fd3, ctl3, type = 0, rc;
	socklen_t tl = sizeof(type);
	ssize_t n;

	if (!mkdtemp(dir))
		return 1;
	setenv("CONTAINER_RUN_DIR", dir, 1);
	is_int(vport_path("ctrbr0", &rp, &e), 0, "the port socket's path");
	buf_printf(&path, "%s/vmnet-ctrbr0.sock", dir);
	is_str(buf_str(&rp), buf_str(&path), "... is $RUN/vmnet-<bridge>.sock");
	buf_reset(&rp);
	setenv("CONTAINER_RUN_DIR",
	       "/tmp/a-very-long-run-directory-name-that-goes-on-and-on-and-on-"
	       "and-on-until-it-no-longer-fits",
	       1);
	is_int(vport_path("ctrbr0", &rp, &e), -ENAMETOOLONG,
	       "a path past 103 bytes (macOS's sun_path) is refused");
	setenv("CONTAINER_RUN_DIR", dir, 1);

	uv_loop_init(&loop);
	uv_async_init(&loop, &stop_async, on_stop);
	is_int(vport_server_start(&loop, buf_str(&path), 1514, &up, &srv, &e), 0,
	       "the server listens");
	pthread_create(&th, NULL, loop_main, NULL);

	is_int(vport_open(buf_str(&path), MAC1, 2000, &fd1, &ctl1, &e), 0, "VM 1 attaches");
	is_int(vport_open(buf_str(&path), MAC2, 2000, &fd2, &ctl2, &e), 0, "VM 2 attaches");
	ok(getsockopt(fd1, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_DGRAM,
	   "a VM gets a datagram socket (what VZFileHandleNetworkDeviceAttachment wants)");

	/* broadcast from VM 1: VM 2 and the uplink */
	send(fd1, f, mk(f, BCAST, M1, 0x11, 342), 0);
	n = next(fd2, g, sizeof(g));
	ok(n == 342 && memcmp(f, g, 342) == 0, "VM 1's broadcast reaches VM 2 whole");
	is_int(uplink_count(), 1, "... and the uplink");
	ok(up_last_len == 342 && memcmp(up_last, f, 342) == 0, "... whole");

	/* from the uplink to VM 1 only; VM 2's next frame is the marker after */
	vport_server_uplink_input(srv, f, mk(f, M1, HOST, 0x22, 98));
	n = next(fd1, g, sizeof(g));
	ok(n == 98 && g[20] == 0x22, "the uplink's unicast reaches VM 1");
	vport_server_uplink_input(srv, f, mk(f, BCAST, HOST, 0x33, 60));
	n = next(fd2, g, sizeof(g));
	ok(n == 60 && g[20] == 0x33,
	   "VM 2 did not get VM 1's unicast (its next frame is the broadcast)");
	n = next(fd1, g, sizeof(g));
	ok(n == 60 && g[20] == 0x33, "VM 1 gets the broadcast too");

	/* VM to VM unicast skips the uplink */
	send(fd2, f, mk(f, M1, M2, 0x44, 60), 0);
	n = next(fd1, g, sizeof(g));
	ok(n == 60 && g[20] == 0x44, "VM 2's unicast reaches VM 1");
	is_int(uplink_count(), 1, "... without going to the uplink");
	/* VM 2 to the learned host: the uplink only */
	send(fd2, f, mk(f, HOST, M2, 0x45, 60), 0);
	send(fd2, f, mk(f, BCAST, M2, 0x46, 60), 0);
	n = next(fd1, g, sizeof(g));
	ok(n == 60 && g[20] == 0x46, "unicast to the host did not reach VM 1");
	is_int(uplink_count(), 3, "... but the uplink, as did the broadcast");

	/* spoofed and oversized frames are dropped */
	send(fd1, f, mk(f, BCAST, M2, 0x55, 60), 0);
	send(fd1, f, mk(f, BCAST, M1, 0x56, 1515), 0);
	send(fd1, f, mk(f, BCAST, M1, 0x57, 1514), 0);
	n = next(fd2, g, sizeof(g));
	ok(n == 1514 && g[20] == 0x57,
	   "a spoofed and an oversized frame were dropped, 1514 bytes pass");
	send(fd1, f, 5, 0);
	send(fd1, f, mk(f, BCAST, M1, 0x58, 60), 0);
	n = next(fd2, g, sizeof(g));
	ok(n == 60 && g[20] == 0x58, "a 5-byte datagram is dropped");
	vport_server_stats(srv, &st);
	is_int(st.drop_spoof, 1, "the spoofed frame is counted");
	is_int(st.drop_long, 1, "the oversized one too");
	is_int(st.drop_short, 1, "and the short one");

	/* refusals */
	rc = vport_open(buf_str(&path), MAC1, 2000, &fd3, &ctl3, &e);
	ok(rc == -EIO && strstr(e.msg, "already on port"), "a MAC already attached is refused: %s",
	   e.msg);
	is_int(vport_open(buf_str(&path), "02:42:zz:00:00:01", 2000, &fd3, &ctl3, &e), -EINVAL,
	       "a bad MAC is refused by the client");
	raw(buf_str(&path), "ff:ff:ff:ff:ff:ff\n", 18, reply, sizeof(reply));
	ok(!strncmp(reply, "error ", 6), "a broadcast MAC is refused: %.60s", reply);
	raw(buf_str(&path), "hello\n", 6, reply, sizeof(reply));
	ok(!strncmp(reply, "error ", 6), "a hello that is not a MAC is refused");
	memset(big, 'a', sizeof(big));
	raw(buf_str(&path), big, sizeof(big), reply, sizeof(reply));
	is_str(reply, "error hello too long\n", "a hello without an end is cut off");
	raw(buf_str(&path), "02:42:c0:a8:40:09\nmore", 22, reply, sizeof(reply));
	is_str(reply, "", "bytes after the hello: closed without an answer");
	rc = vport_open(dir, MAC1, 100, &fd3, &ctl3, &e);
	ok(rc < 0, "no server at a path: an error after the timeout (%s)", e.msg);

	/* the port lives with its control connection */
	close(ctl2);
	rc = -1;
	for (int i = 0; i < 200 && rc < 0; i++) {
		rc = vport_open(buf_str(&path), MAC2, 2000, &fd3, &ctl3, &e);
		if (rc < 0)
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	is_int(rc, 0, "once VM 2's control connection closes, its MAC can attach again");
	send(fd1, f, mk(f, BCAST, M1, 0x66, 60), 0);
	n = next(fd3, g, sizeof(g));
	ok(n == 60 && g[20] == 0x66, "the new port gets frames");
	ok(send(fd2, f, 60, 0) < 0, "the old socket's peer is gone: sending fails (%s)",
	   strerror(errno));

	uv_async_send(&stop_async);
	pthread_join(th, NULL);
	is_int(uv_loop_close(&loop), 0, "closing the server releases every handle");
	ok(access(buf_str(&path), F_OK) < 0, "and removes the socket file");
	close(fd1);
	close(ctl1);
	close(fd2);
	close(fd3);
	close(ctl3);
	rmdir(dir);
	buf_free(&path);
	buf_free(&rp);
	return done_testing();
}
