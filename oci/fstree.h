/* The in-memory tree an image's root filesystem is assembled in (issue #4).
 *
 * The unpacker feeds it the entries of each layer, lowest first, as
 * struct tar_entry values; fstree applies the OCI image-spec layer rules
 * (whiteouts, opaque directories, file<->directory replacement, hard links
 * with exact link counts) and keeps the result as directories of dentries
 * pointing at inodes.  The ext4 writer (oci/ext4.c) walks it at the end.
 *
 * Containment: entry paths are cleaned lexically and a ".." that would
 * leave the root is an error; symlinks met on the way to an entry's parent
 * are resolved INSIDE the image root (like openat2 RESOLVE_IN_ROOT), so
 * "lib -> /" followed by "lib/etc/x" lands at /etc/x of the image.  Nothing
 * here touches the host file system.
 *
 * File data never lives in memory: regular-file content is handed to a
 * struct fstree_sink (the ext4 writer's data area), which returns an opaque
 * handle kept in the inode and released when the last link goes away.
 * Memory per entry is bounded by the tar reader's limits (path, link name,
 * xattrs) plus a fixed overhead.
 *
 * Ownership: the tree owns its dentries and inodes; handles belong to the
 * sink, which must outlive the tree.
 */
#ifndef OCI_FSTREE_H
#define OCI_FSTREE_H

#include <stddef.h>
#include <stdint.h>

struct err;
struct reader;
struct tar;
struct tar_entry;

#define FSTREE_NAME_MAX 255      /* bytes in one path component */
#define FSTREE_LINK_MAX 65000    /* ext4's limit on links to one inode */
#define FSTREE_SYMLINK_MAX 4095  /* bytes in a symlink target */
#define FSTREE_FOLLOW_MAX 40     /* symlinks followed resolving one path */

enum fstree_type { FST_REG, FST_DIR, FST_SYMLINK, FST_CHR, FST_BLK, FST_FIFO };

/* Where regular-file data goes.  write() consumes exactly size bytes from
 * rd and returns a handle in *out; release() is called once per handle when
 * no link refers to the data any more (or at fstree_free). */
struct fstree_sink {
	int (*write)(struct fstree_sink *s, struct reader *rd, uint64_t size,
		     void **out, struct err *e);
	void (*release)(struct fstree_sink *s, void *handle);
};

struct fstree_xattr {
	char *name;
	unsigned char *value;
	size_t len;
};

struct fstree_dir;

struct fstree_inode {
	enum fstree_type type;
	uint32_t mode;            /* permission bits incl. suid/sgid/sticky (07777) */
	uint32_t uid, gid;
	int64_t mtime;
	uint32_t mtime_nsec;
	uint32_t nlink;           /* dentries pointing here */
	uint64_t size;            /* regular files: data bytes */
	void *data;               /* regular files: the sink's handle */
	char *target;             /* symlinks */
	uint32_t devmajor, devminor;
	struct fstree_xattr *xattrs;
	size_t nxattrs;
	struct fstree_dir *dir;   /* directories: the children */
	uint32_t ino;             /* free for the writer (0 until it numbers) */
};

struct fstree_dentry {
	struct fstree_inode *inode;
	uint32_t layer;           /* the layer that created or re-declared it */
	uint16_t namelen;
	char name[];              /* NUL-terminated */
};

struct fstree {
	struct fstree_inode *root;
	struct fstree_sink *sink;  /* borrowed */
	uint32_t layer;            /* current layer, 1-based */
	int64_t default_mtime;     /* for directories created implicitly */
	uint64_t ninodes;          /* live inodes, root included */
	uint64_t nentries;         /* live dentries */
};

struct fstree *fstree_new(struct fstree_sink *sink);
void fstree_free(struct fstree *t);

/* Start the next layer: entries applied after this belong to it (opaque
 * markers and whiteouts only remove entries of earlier layers). */
void fstree_begin_layer(struct fstree *t);

/* Apply one tar entry.  data yields the entry's te->size bytes (regular
 * files only; may be NULL otherwise).  On error the tree is unchanged
 * except for parent directories that were created implicitly. */
int fstree_apply(struct fstree *t, const struct tar_entry *te, struct reader *data,
		 struct err *e);

/* Apply a whole layer read from tar (begins a new layer first).  Stops at
 * the first error, which names the layer's entry. */
int fstree_apply_layer(struct fstree *t, struct tar *tar, struct err *e);

/* Look a path up (cleaned like entry paths; symlinks in the middle are
 * followed inside the root, a final one is not).  NULL when absent. */
struct fstree_inode *fstree_lookup(struct fstree *t, const char *path, struct err *e);

/* Add "name" to the root as an empty directory (mode, uid 0) unless an entry
 * of that name exists; used for lost+found. */
int fstree_ensure_root_dir(struct fstree *t, const char *name, uint32_t mode,
			   struct err *e);

/* Children of a directory, in no particular order: *out receives a new
 * array (caller frees) of n borrowed dentries. */
size_t fstree_dir_list(const struct fstree_inode *dir, struct fstree_dentry ***out);
size_t fstree_dir_count(const struct fstree_inode *dir);
/* The parent directory (the root is its own parent). */
struct fstree_inode *fstree_dir_parent(const struct fstree_inode *dir);

#endif
