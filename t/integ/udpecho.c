/* A UDP echo server for t/integ/net.sh, built static and put into the
 * test image (busybox here has no UDP server): udpecho PORT. */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char buf[65536];
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (argc != 2 || s < 0)
		return 2;
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return 1;
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n >= 0)
			sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}
