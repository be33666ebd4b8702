/* main() for fuzz targets in `make test`: feeds every file named on the
 * command line (or found in the directories named) to the target's
 * LLVMFuzzerTestOneInput once, printing one TAP line per input.  A crash,
 * a sanitizer report or a leak fails the run; so the corpus is replayed on
 * every test run, not only when someone fuzzes. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n;

static void run_file(const char *path)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	if (fs_read_file(path, &b, 64u << 20, &e) < 0) {
		printf("not ok %d - %s\n", ++n, e.msg);
		return;
	}
	/* Copy into an exactly-sized allocation so ASan sees reads past it. */
	uint8_t *p = malloc(b.len ? b.len : 1);
	memcpy(p, b.data ? b.data : "", b.len);
	LLVMFuzzerTestOneInput(p, b.len);
	free(p);
	buf_free(&b);
	printf("ok %d - %s\n", ++n, path);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;

		if (stat(argv[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			run_file(argv[i]);
			continue;
		}
		d = opendir(argv[i]);
		while (d && (de = readdir(d))) {
			struct buf p = BUF_INIT;
			if (de->d_name[0] == '.')
				continue;
			buf_printf(&p, "%s/%s", argv[i], de->d_name);
			run_file(buf_str(&p));
			buf_free(&p);
		}
		if (d)
			closedir(d);
	}
	printf("1..%d\n", n);
	return 0;
}
