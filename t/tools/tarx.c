/* tarx: oci/tarx.h from the shell, for t/integ/cp.sh and by hand.
 *
 *   tarx x DIR [FROM TO] < ARCHIVE   extract below DIR (rebase FROM -> TO)
 *   tarx c DIR NAME AS > ARCHIVE     write DIR/NAME as AS
 *
 * Errors: one line on stderr, exit 1. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/stream.h"
#include "oci/tarx.h"

int main(int argc, char **argv)
{
	struct err e = ERR_INIT;
	int dir, rc, out = 1;

	if (argc < 3 || (strcmp(argv[1], "x") && strcmp(argv[1], "c")) ||
	    (argv[1][0] == 'c' && argc != 5) || (argv[1][0] == 'x' && argc != 3 && argc != 5)) {
		fprintf(stderr, "usage: tarx x DIR [FROM TO] < TAR | tarx c DIR NAME AS > TAR\n");
		return 2;
	}
	if ((dir = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror(argv[2]);
		return 1;
	}
	if (argv[1][0] == 'x') {
		struct fd_reader fr;
		struct tarx_opts o = { 0 };
		fd_reader_init(&fr, 0);
		if (argc == 5) {
			o.from = argv[3];
			o.to = argv[4];
		}
		rc = tarx_extract(&fr.r, dir, &o, &e);
	} else {
		struct tarx_sink s = { tarx_fd_write, &out };
		rc = tarx_write(dir, argv[3], argv[4], 0, &s, &e);
	}
	if (rc < 0) {
		fprintf(stderr, "tarx: %s\n", e.msg);
		return 1;
	}
	return 0;
}
