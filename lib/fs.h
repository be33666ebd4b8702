/* File-system helpers: atomic writes, mkdir -p, path joining, whole-file
 * reads with a bound.  All follow lib/err.h.
 *
 * Atomic write = write a temp file beside the target (".name.tmp-XXXXXX"),
 * fsync it, rename over the target, fsync the directory.  A crash at any
 * point leaves either the old or the new content, never a mix. */
#ifndef LIB_FS_H
#define LIB_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A struct stat's modification time as a struct timespec (Linux and
 * macOS name the member differently). */
#ifdef __APPLE__
#define FS_MTIME(st) ((st).st_mtimespec)
#else
#define FS_MTIME(st) ((st).st_mtim)
#endif

struct err;
struct buf;

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct err *e);

/* Create a directory and its parents (mode for each one created). */
int fs_mkdir_p(const char *path, mode_t mode, struct err *e);

/* Bytes a (sparse) file holds on disk, st_blocks * 512; 0 when path is
 * NULL or cannot be stat'ed.  What df and prune count. */
long long fs_allocated(const char *path);

/* fsync the directory dir (a directory path, not a file in it). */
int fs_fsync_dir(const char *dir, struct err *e);

/* The lexical clean of an absolute path, as Go's filepath.Clean does
 * ("/a/./b/../c" -> "/a/c", ".." above the root stays at the root),
 * appended to out without the trailing "/": "/" itself appends nothing. */
void fs_path_clean(const char *abs, struct buf *out);
/* docker cp's "the contents of": the last component is "." ("." or ".../."). */
bool fs_path_ends_dot(const char *p);

/* Append "a/b" to out, where b is a relative path that must stay inside a:
 * b must not be absolute, must not contain a ".." component or a NUL, and
 * empty and "." components are dropped.  -EINVAL otherwise.  This is
 * lexical only: it does not resolve symlinks. */
int fs_path_join(struct buf *out, const char *a, const char *b, struct err *e);

/* Read a whole file into out (appending), failing with -EFBIG past max
 * bytes (0 = no limit). */
int fs_read_file(const char *path, struct buf *out, size_t max, struct err *e);

/* write(2)/read(2) that loop over short counts and EINTR.  fs_read_full
 * returns the number of bytes read (short only at EOF). */
int fs_write_full(int fd, const void *p, size_t n, struct err *e);
ssize_t fs_read_full(int fd, void *p, size_t n, struct err *e);

/* Lock files.  fs_lock takes an flock (op: LOCK_SH or LOCK_EX, optionally
 * | LOCK_NB, which fails with -EBUSY) on path, creating it.  A holder may
 * unlink the file when it releases (fs_unlock_unlink), so a waiter that
 * wakes up on an inode no longer at path starts over: whoever holds the
 * lock always holds the one everybody else can see. */
int fs_lock(const char *path, int op, int *out_fd, struct err *e);
/* Release: unlink path while still holding the lock, then close.  fd -1
 * is a no-op. */
void fs_unlock_unlink(const char *path, int fd);

#endif
