#!/usr/bin/env python3
"""Print the manifest of an ext4 image as read back INDEPENDENTLY of our code:
with debugfs (e2fsprogs), or from a kernel mount point (--mount DIR).
Helper of t/integ/ext4_e2fsck.sh; the format is mkext4test's:

    PATH TYPE MODE UID GID SIZE SHA256 TARGET LINK XATTRS

LINK is the first path (depth first, names in byte order) of an inode with
more than one link, on its later paths; "-" for fields that do not apply.
"""
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

BIG = 16 << 20


def esc(s):
    out = []
    for c in s:
        if c <= 32 or c >= 127 or c == 37:
            out.append('%%%02X' % c)
        else:
            out.append(chr(c))
    return ''.join(out)


def acl_norm(name, v):
    """ids of ACL_*_OBJ/MASK/OTHER entries are undefined: show them as -1
    (the kernel does; debugfs prints 0)."""
    if name not in ('system.posix_acl_access', 'system.posix_acl_default') or len(v) < 4:
        return v
    out = bytearray(v[:4])
    for i in range(4, len(v) - 7, 8):
        e = bytearray(v[i:i + 8])
        if int.from_bytes(e[0:2], 'little') not in (2, 8):
            e[4:8] = b'\xff\xff\xff\xff'
        out += e
    return bytes(out)


def debugfs(img, cmds, tmp):
    """Run commands in one debugfs; return {command: output lines}."""
    f = os.path.join(tmp, 'cmds')
    with open(f, 'w', encoding='utf-8', errors='surrogateescape') as fh:
        for c in cmds:
            fh.write(c + '\n')
    p = subprocess.run(['debugfs', '-f', f, img], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, check=True)
    res, cur = {}, None
    for line in p.stdout.split(b'\n'):
        if line.startswith(b'debugfs: '):
            cur = line[9:].decode('utf-8', 'surrogateescape')
            res[cur] = []
        elif cur is not None:
            res[cur].append(line)
    return res


def q(path):
    return '"' + path + '"'


def from_debugfs(img):
    tmp = tempfile.mkdtemp()
    try:
        return walk_debugfs(img, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def walk_debugfs(img, tmp):
    entries = {'/': None}  # path -> (ino, mode, uid, gid, size)
    children = {}
    level = ['/']
    root = debugfs(img, ['stat /'], tmp)['stat /']
    m = re.search(rb'Mode:\s+(\d+)', b'\n'.join(root))
    u = re.search(rb'User:\s+(\d+)\s+Group:\s+(\d+)', b'\n'.join(root))
    entries['/'] = (2, 0o40000 | int(m.group(1), 8), int(u.group(1)), int(u.group(2)), 0)
    while level:
        out = debugfs(img, ['ls -p ' + q(d) for d in level], tmp)
        nxt = []
        for d in level:
            kids = []
            for line in out['ls -p ' + q(d)]:
                if not line.startswith(b'/'):
                    continue
                f = line.split(b'/')
                name = f[5]
                if name in (b'.', b'..') or f[1] == b'0':  # htree nodes show as inode 0
                    continue
                path = (d.rstrip('/') + '/' + name.decode('utf-8', 'surrogateescape'))
                mode = int(f[2], 8)
                entries[path] = (int(f[1]), mode, int(f[3]), int(f[4]),
                                 int(f[6]) if f[6] else 0)
                kids.append(name)
                if stat.S_ISDIR(mode):
                    nxt.append(path)
            children[d] = sorted(kids)
        level = nxt
    paths = []

    def dfs(d):
        for k in children.get(d, []):
            p = d.rstrip('/') + '/' + k.decode('utf-8', 'surrogateescape')
            paths.append(p)
            if p in children:
                dfs(p)
    dfs('/')

    def iq(p):  # by inode number: path lookups are linear in debugfs
        return '<%d>' % entries[p][0]

    dump = os.path.join(tmp, 'root')
    os.mkdir(dump)
    small = [p for p in paths if stat.S_ISREG(entries[p][1]) and 0 < entries[p][4] <= BIG]
    cmds = []
    for p in small:
        ino = entries[p][0]
        cmds.append('dump <%d> %s' % (ino, os.path.join(dump, str(ino))))
    devs = [p for p in paths if stat.S_ISCHR(entries[p][1]) or stat.S_ISBLK(entries[p][1])]
    links = [p for p in paths if stat.S_ISLNK(entries[p][1])]
    cmds += ['stat ' + iq(p) for p in devs + links]
    cmds += ['ea_list ' + iq(p) for p in ['/'] + paths]
    out = debugfs(img, cmds, tmp)
    xattr_names = {}
    getcmds = []
    for p in ['/'] + paths:
        names = []
        for line in out['ea_list ' + iq(p)]:
            mm = re.match(rb'  (\S+) \((\d+)\)', line)
            if mm:
                names.append(mm.group(1).decode())
        xattr_names[p] = sorted(names)
        for i, n in enumerate(xattr_names[p]):
            fn = os.path.join(tmp, 'xa-%d-%d' % (entries[p][0], i))
            getcmds.append('ea_get -f %s %s %s' % (fn, iq(p), n))
    if getcmds:
        debugfs(img, getcmds, tmp)

    def sha(p):  # noqa: E306
        ino = entries[p][0]
        if entries[p][4] == 0:
            return hashlib.sha256(b'').hexdigest()
        if entries[p][4] <= BIG:
            with open(os.path.join(dump, str(ino)), 'rb') as fh:
                return hashlib.sha256(fh.read()).hexdigest()
        h = hashlib.sha256()
        pr = subprocess.Popen(['debugfs', '-R', 'cat <%d>' % ino, img],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        while True:
            b = pr.stdout.read(1 << 20)
            if not b:
                break
            h.update(b)
        pr.wait()
        return h.hexdigest()

    def target(p):
        text = b'\n'.join(out['stat ' + iq(p)])
        mm = re.search(rb'Fast link dest: "(.*)"', text)
        if mm:
            return mm.group(1)
        pr = subprocess.run(['debugfs', '-R', 'cat ' + iq(p), img], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, check=True)
        return pr.stdout[:entries[p][4]]

    def dev(p):
        text = b'\n'.join(out['stat ' + iq(p)])
        mm = re.search(rb'Device major/minor number: (\d+):(\d+)', text)
        return '%d,%d' % (int(mm.group(1)), int(mm.group(2)))

    def xattrs(p):
        vals = []
        for i, n in enumerate(xattr_names[p]):
            with open(os.path.join(tmp, 'xa-%d-%d' % (entries[p][0], i)), 'rb') as fh:
                vals.append((n, fh.read()))
        return vals

    res = []
    for p in ['/'] + paths:
        ino, mode, uid, gid, size = entries[p]
        res.append((p, ino, mode, uid, gid, size, sha(p) if stat.S_ISREG(mode) else None,
                    target(p) if stat.S_ISLNK(mode) else None,
                    dev(p) if (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) else None,
                    xattrs(p)))
    return res


def from_mount(top):
    res = []

    def one(p, full):
        st = os.lstat(full)
        xa = []
        if not stat.S_ISLNK(st.st_mode):
            for n in sorted(os.listxattr(full, follow_symlinks=False)):
                xa.append((n, os.getxattr(full, n, follow_symlinks=False)))

        def sha(_):
            h = hashlib.sha256()
            with open(full, 'rb') as fh:
                while True:
                    b = fh.read(1 << 20)
                    if not b:
                        break
                    h.update(b)
            return h.hexdigest()
        dv = None
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            dv = '%d,%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))
        res.append((p, st.st_ino, st.st_mode, st.st_uid, st.st_gid, st.st_size,
                    sha(p) if stat.S_ISREG(st.st_mode) else None,
                    os.readlink(os.fsencode(full)) if stat.S_ISLNK(st.st_mode) else None,
                    dv, xa))
        if stat.S_ISDIR(st.st_mode):
            for k in sorted(os.listdir(os.fsencode(full))):
                kp = p.rstrip('/') + '/' + k.decode('utf-8', 'surrogateescape')
                one(kp, os.path.join(full, k.decode('utf-8', 'surrogateescape')))
    one('/', top)
    return res


def main():
    if sys.argv[1] == '--mount':
        rows = from_mount(sys.argv[2])
    else:
        rows = from_debugfs(sys.argv[1])
    first = {}
    nl = {}
    for r in rows:
        nl[r[1]] = nl.get(r[1], 0) + 1
    w = sys.stdout.buffer
    for (p, ino, mode, uid, gid, size, sha, tgt, dv, xa) in rows:
        t = {stat.S_IFREG: 'f', stat.S_IFDIR: 'd', stat.S_IFLNK: 'l', stat.S_IFCHR: 'c',
             stat.S_IFBLK: 'b', stat.S_IFIFO: 'p'}[stat.S_IFMT(mode)]
        f = [esc(os.fsencode(p)), t, '%04o' % stat.S_IMODE(mode), str(uid), str(gid)]
        if t == 'f':
            f += [str(size), sha, '-']
        elif t == 'l':
            f += [str(len(tgt)), '-', esc(tgt)]
        elif t in 'cb':
            f += ['0', '-', dv]
        else:
            f += ['-', '-', '-']
        link = '-'
        if t != 'd' and nl[ino] > 1:
            if ino in first:
                link = esc(os.fsencode(first[ino]))
            else:
                first[ino] = p
        f.append(link)
        f.append(','.join('%s=%s' % (n, acl_norm(n, v).hex()) for n, v in xa) if xa else '-')
        w.write((' '.join(f) + '\n').encode())


if __name__ == '__main__':
    main()
