#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <linux/capability.h>
#include <malloc.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "masker.h"
#include "redact.h"
#include "report_json.h"

/* Framing on the worker socket (a stream):
 *   request  = u32 job | u32 name length | u32 kind | name bytes, with the
 *              file's descriptor attached (SCM_RIGHTS) to the first byte, and
 *              for a redaction the copy's descriptor after it;
 *   response = u32 job | u32 length | the report as JSON (a redaction: an
 *              object with the copy's report, "as_text" and "replaced").
 * Names travel as bytes: they need not be UTF-8. */
#define NAME_MAX_BYTES 4096
#define REPORT_MAX     (64u << 20)
#define INIT_FAILS_MAX 5
/* Free heap above which an idle worker gives memory back (idle_trim). */
#define TRIM_FREE_MIN (256u << 10)

enum job_kind {
        JOB_SCAN,
        JOB_REDACT_FR,
        JOB_REDACT_EN,
};

struct job {
        uint32_t id;
        uint32_t kind;
        int fd;
        int out; /* redaction: the copy, an unnamed file of the supervisor */
        vg_pool_redact_fn rdone;
        char *name;
        vg_pool_done_fn done;
        void *userdata;
        struct job *next;
};

struct worker {
        struct vg_pool *pool;
        pid_t pid;
        int sock;
        sd_event_source *io;
        sd_event_source *child;
        sd_event_source *timer;
        struct job *job;
        enum vg_reason kill_reason; /* why we killed it, if we did */
        struct vg_buf in;
        bool served; /* has finished at least one job */
        bool retire; /* replace once idle (config reloaded) */
};

struct vg_pool {
        sd_event *ev;
        struct vg_pool_config cfg;
        struct worker *w;
        unsigned n;
        struct job *head, *tail;
        size_t queued;
        uint32_t next_id;
        uint64_t restarts;
        unsigned init_fails;
        sd_event_source *backoff;
        struct vg_masker *masker;
};

static void job_free(struct job *j)
{
        if (!j)
                return;
        if (j->fd >= 0)
                close(j->fd);
        if (j->out >= 0)
                close(j->out);
        free(j->name);
        free(j);
}

/* A report for a file the worker could not finish. */
static void job_fail(struct vg_pool *p, struct job *j, enum vg_reason reason)
{
        if (j->kind != JOB_SCAN) {
                /* no copy: the original stays held, as it is already */
                j->rdone(j->userdata, NULL, false, NULL, -ECANCELED);
                return;
        }
        char *where = vg_masker_display(p->masker, j->name);
        struct vg_report *r = where ? vg_report_new(where) : NULL;
        int e = -ENOMEM;
        if (r && vg_report_add_unscannable(r, where, reason) == 0)
                e = 0;
        free(where);
        if (e < 0) {
                vg_report_free(r);
                r = NULL;
        }
        j->done(j->userdata, r, e);
}

/* ---- the worker process ------------------------------------------------- */

static int read_full(int fd, void *buf, size_t n)
{
        char *p = buf;
        while (n > 0) {
                ssize_t r = read(fd, p, n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return r < 0 ? -errno : -EPIPE;
                p += r;
                n -= (size_t)r;
        }
        return 0;
}

static int write_full(int fd, const void *buf, size_t n)
{
        const char *p = buf;
        while (n > 0) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return w < 0 ? -errno : -EPIPE;
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

/* SHA-256 of the whole object, read with pread so the scan's offsets are untouched:
 * the identity the store, the allowlist and the audit log refer to. OpenSSL's,
 * not GLib's: with the CPU's SHA extensions it hashes about 1 GB/s on this
 * kind of machine, GLib's portable C about 200 MB/s (a whole second of CPU
 * over the 232 MB benchmark corpus). The digest is fetched once, before the
 * worker confines itself: OpenSSL may read its configuration on first use. */
static EVP_MD *sha256_md;

static bool sha256_fd(int fd, char out[65])
{
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        enum { BLK = 256 * 1024 };
        unsigned char *buf = malloc(BLK);
        bool ok = c && buf && sha256_md && EVP_DigestInit_ex(c, sha256_md, NULL) == 1;
        off_t off = 0;
        while (ok) {
                ssize_t r = pread(fd, buf, BLK, off);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        ok = false;
                if (r <= 0)
                        break;
                ok = EVP_DigestUpdate(c, buf, (size_t)r) == 1;
                off += r;
        }
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        if (ok)
                ok = EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == 32;
        if (ok) {
                static const char hex[] = "0123456789abcdef";
                for (unsigned i = 0; i < 32; i++) {
                        out[2 * i] = hex[md[i] >> 4];
                        out[2 * i + 1] = hex[md[i] & 15];
                }
                out[64] = '\0';
        }
        EVP_MD_CTX_free(c);
        free(buf);
        return ok;
}

/* Header and JSON in one sendmsg: one system call per result instead of two
 * (syscalls are most of the per-file cost of small files); what a short send
 * leaves goes out with write_full. */
static int reply(int sock, uint32_t id, const char *json)
{
        uint32_t out[2] = {id, (uint32_t)strlen(json)};
        struct iovec iov[2] = {{out, sizeof(out)}, {(void *)json, out[1]}};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
        ssize_t w;
        while ((w = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
                ;
        if (w < 0)
                return -errno;
        size_t sent = (size_t)w;
        if (sent < sizeof(out)) {
                int e = write_full(sock, (const char *)out + sent, sizeof(out) - sent);
                return e ? e : write_full(sock, json, out[1]);
        }
        sent -= sizeof(out);
        return sent < out[1] ? write_full(sock, json + sent, out[1] - sent) : 0;
}

/* A redaction: the copy written to `out`, scanned again; the supervisor judges
 * it with the route's policy. No policy here: the worker only does the work. */
static int serve_redact(int sock, struct vg_engine *eng, uint32_t id, int fd, int out,
                        const char *name, bool english)
{
        struct vg_redact_opts o = {.format = VG_REDACT_SAME, .english = english};
        struct vg_redact_result *res = NULL;
        json_t *doc = json_object(), *replaced = json_array();
        char *copy = NULL, *text = NULL;
        if (vg_redact_fd(eng, NULL, fd, name, &o, out, &res) == 0 && res->copy &&
            res->status == VG_REDACT_DONE)
                copy = vg_report_to_json_line(res->copy);
        json_t *cj = copy ? json_loads(copy, 0, NULL) : NULL;
        for (size_t i = 0; res && replaced && i < res->nentries; i++) {
                const struct vg_redact_entry *en = &res->entries[i];
                json_t *samples = json_array();
                for (size_t k = 0; samples && k < en->nsamples; k++)
                        json_array_append_new(samples, json_string(en->samples[k]));
                json_array_append_new(
                    replaced, json_pack("{s:s, s:s, s:I, s:I, s:o*}", "detector", en->detector,
                                        "label", en->label, "count", (json_int_t)en->count,
                                        "distinct", (json_int_t)en->distinct, "samples", samples));
        }
        if (doc && replaced) {
                json_object_set_new(doc, "as_text", json_boolean(res && res->as_text));
                json_object_set(doc, "replaced", replaced);
                json_object_set_new(doc, "copy", cj ? cj : json_null());
                cj = NULL;
                text = json_dumps(doc, JSON_COMPACT);
        }
        json_decref(cj);
        json_decref(doc);
        json_decref(replaced);
        free(copy);
        vg_redact_result_free(res);
        if (!text)
                return -ENOMEM;
        int e = reply(sock, id, text);
        free(text);
        return e;
}

/* At rest, a worker should weigh what a fresh one does. Measured with the
 * benchmark's daemon (tests/bench/run_bench.py): after one 256 KB text file a
 * worker kept 3.9 MB more in use (the detectors' scratch, sized for the largest
 * chunk), and the free heap left by a burst of office files was not given
 * back; both workers at rest went from 3.2 to 12 MB of anonymous memory each.
 * Trimming after every job cost small files four times their scan (0.3 ms of
 * madvise and page faults against 0.07), so it waits until no job has come
 * for IDLE_TRIM_MS: a burst runs untrimmed, a worker at rest is trimmed once. */
#define IDLE_TRIM_MS 200

static void idle_trim(struct vg_engine *eng)
{
        vg_engine_trim(eng);
        struct mallinfo2 mi = mallinfo2();
        if (mi.fordblks > TRIM_FREE_MIN)
                malloc_trim(0);
}

/* Waits for the next job; trims first if the worker worked since its last trim
 * and nothing comes for a while. */
static void wait_job(int sock, struct vg_engine *eng, bool *dirty)
{
        if (!*dirty)
                return;
        struct pollfd p = {.fd = sock, .events = POLLIN};
        int r;
        do
                r = poll(&p, 1, IDLE_TRIM_MS);
        while (r < 0 && errno == EINTR);
        if (r == 0) {
                idle_trim(eng);
                *dirty = false;
        }
}

/* hash_max: objects larger than the size limit are held as limit:size without
 * being read, and are not hashed either: reading a 10 GB (or sparse) file to the
 * end would run past the scan time limit and turn limit:size into limit:time. */
static int serve(int sock, struct vg_engine *eng, uint64_t hash_max)
{
        bool dirty = false;
        for (;;) {
                wait_job(sock, eng, &dirty);
                uint32_t hdr[3];
                char cbuf[CMSG_SPACE(2 * sizeof(int))];
                struct iovec iov = {hdr, sizeof(hdr)};
                struct msghdr mh = {.msg_iov = &iov,
                                    .msg_iovlen = 1,
                                    .msg_control = cbuf,
                                    .msg_controllen = sizeof(cbuf)};
                ssize_t r;
                do
                        r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
                while (r < 0 && errno == EINTR);
                if (r == 0)
                        return 0; /* the supervisor closed: done */
                if (r != (ssize_t)sizeof(hdr))
                        return -EPROTO;
                int fds[2] = {-1, -1};
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                            c->cmsg_len == CMSG_LEN(sizeof(int)))
                                memcpy(fds, CMSG_DATA(c), sizeof(int));
                        else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                                 c->cmsg_len == CMSG_LEN(2 * sizeof(int)))
                                memcpy(fds, CMSG_DATA(c), 2 * sizeof(int));
                int fd = fds[0];
                bool redact = hdr[2] == JOB_REDACT_FR || hdr[2] == JOB_REDACT_EN;
                if (fd < 0 || hdr[1] == 0 || hdr[1] > NAME_MAX_BYTES || hdr[2] > JOB_REDACT_EN ||
                    redact != (fds[1] >= 0)) {
                        if (fd >= 0)
                                close(fd);
                        if (fds[1] >= 0)
                                close(fds[1]);
                        return -EPROTO;
                }
                char name[NAME_MAX_BYTES + 1];
                if (read_full(sock, name, hdr[1]) < 0) {
                        close(fd);
                        if (fds[1] >= 0)
                                close(fds[1]);
                        return -EPROTO;
                }
                name[hdr[1]] = '\0';
                if (redact) {
                        int e = serve_redact(sock, eng, hdr[0], fd, fds[1], name,
                                             hdr[2] == JOB_REDACT_EN);
                        close(fd);
                        close(fds[1]);
                        if (e < 0)
                                return e;
                        dirty = true;
                        continue;
                }
                struct vg_report *rep = NULL;
                int e = vg_scan_fd(eng, fd, name, &rep);
                if (e == 0 && rep->size <= hash_max && !sha256_fd(fd, rep->sha256))
                        e = vg_report_add_unscannable(rep, rep->path, VG_REASON_IO_ERROR);
                close(fd);
                char *json = rep ? vg_report_to_json_line(rep) : NULL;
                vg_report_free(rep);
                if (!json)
                        return -ENOMEM; /* the supervisor reports limit:memory */
                e = reply(sock, hdr[0], json);
                free(json);
                if (e < 0)
                        return e;
                dirty = true;
        }
}

/* What a worker may not do once confined: open anything by path (only an
 * unlinked O_TMPFILE for spooling), touch the filesystem's names, talk to the
 * network or another process, run a program, or reach into the kernel's rarer
 * corners. Denied calls fail with EPERM, which the parsers treat as an error
 * (the object becomes unscannable), rather than killing the worker mid-report. */
static const int denied[] = {
    SCMP_SYS(open),
    SCMP_SYS(creat),
    SCMP_SYS(openat2),
    SCMP_SYS(open_by_handle_at),
    SCMP_SYS(name_to_handle_at),
    SCMP_SYS(execve),
    SCMP_SYS(execveat),
    SCMP_SYS(socket),
    SCMP_SYS(socketpair),
    SCMP_SYS(connect),
    SCMP_SYS(bind),
    SCMP_SYS(listen),
    SCMP_SYS(accept),
    SCMP_SYS(accept4),
    SCMP_SYS(ptrace),
    SCMP_SYS(process_vm_readv),
    SCMP_SYS(process_vm_writev),
    SCMP_SYS(mount),
    SCMP_SYS(umount2),
    SCMP_SYS(pivot_root),
    SCMP_SYS(chroot),
    SCMP_SYS(setns),
    SCMP_SYS(unshare),
    SCMP_SYS(keyctl),
    SCMP_SYS(add_key),
    SCMP_SYS(request_key),
    SCMP_SYS(bpf),
    SCMP_SYS(perf_event_open),
    SCMP_SYS(link),
    SCMP_SYS(linkat),
    SCMP_SYS(symlink),
    SCMP_SYS(symlinkat),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(rename),
    SCMP_SYS(renameat),
    SCMP_SYS(renameat2),
    SCMP_SYS(mkdir),
    SCMP_SYS(mkdirat),
    SCMP_SYS(rmdir),
    SCMP_SYS(chmod),
    SCMP_SYS(fchmodat),
    SCMP_SYS(chown),
    SCMP_SYS(lchown),
    SCMP_SYS(fchownat),
    SCMP_SYS(truncate),
    SCMP_SYS(mknod),
    SCMP_SYS(mknodat),
    SCMP_SYS(utimensat),
    SCMP_SYS(utimes),
    SCMP_SYS(setuid),
    SCMP_SYS(setgid),
    SCMP_SYS(setresuid),
    SCMP_SYS(setresgid),
    SCMP_SYS(setreuid),
    SCMP_SYS(setregid),
    SCMP_SYS(setgroups),
    SCMP_SYS(kexec_load),
    SCMP_SYS(init_module),
    SCMP_SYS(finit_module),
    SCMP_SYS(delete_module),
    SCMP_SYS(iopl),
    SCMP_SYS(ioperm),
    SCMP_SYS(swapon),
    SCMP_SYS(swapoff),
    SCMP_SYS(reboot),
    SCMP_SYS(userfaultfd),
    SCMP_SYS(io_uring_setup),
    SCMP_SYS(fanotify_init),
    SCMP_SYS(inotify_init),
    SCMP_SYS(inotify_init1),
    SCMP_SYS(memfd_create),
};

static int seccomp_confine(void)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        int e = 0;
        for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]) && e == 0; i++)
                e = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0);
        /* openat: only an unlinked temporary file, never a name. */
        if (e == 0)
                e = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(openat), 1,
                                     SCMP_A2(SCMP_CMP_MASKED_EQ, O_TMPFILE, 0));
        if (e == 0)
                e = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(openat), 1,
                                     SCMP_A2(SCMP_CMP_MASKED_EQ, O_TMPFILE, O_DIRECTORY));
        if (e == 0)
                e = seccomp_load(ctx);
        seccomp_release(ctx);
        return e;
}

/* The service runs as the user vigie with CAP_DAC_OVERRIDE and CAP_FOWNER as
 * ambient capabilities (to claim files from shared folders); a forked worker
 * inherits them. It keeps none: ambient, permitted, effective and inheritable
 * sets are emptied (lowering needs no privilege), then checked. */
static int drop_capabilities(void)
{
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {{0}};
        if (syscall(SYS_capset, &h, d) < 0)
                return -errno;
        if (syscall(SYS_capget, &h, d) < 0)
                return -errno;
        for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
                if (d[i].effective || d[i].permitted || d[i].inheritable)
                        return -EPERM;
        return 0;
}

int vg_worker_confine(const struct vg_pool_config *cfg)
{
        /* rlimits first: they need no privilege. No core dumps (they would hold
         * the content being scanned), no children, a bounded address space. */
        struct rlimit zero = {0, 0};
        if (setrlimit(RLIMIT_CORE, &zero) < 0)
                return -errno;
#ifndef VIGIE_SANITIZED
        /* ASan reserves terabytes of address space: the limit is for real builds. */
        if (cfg->memory) {
                struct rlimit as = {cfg->memory, cfg->memory};
                if (setrlimit(RLIMIT_AS, &as) < 0)
                        return -errno;
        }
#endif
        if (geteuid() == 0) {
                const char *user = cfg->user ? cfg->user : "vigie";
                struct passwd *pw = getpwnam(user);
                uid_t uid = pw ? pw->pw_uid : 65534;
                gid_t gid = pw ? pw->pw_gid : 65534;
                if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
                    setresuid(uid, uid, uid) < 0)
                        return -errno;
                /* Leaving uid 0 without keep-caps clears every capability. */
                if (geteuid() == 0 || getegid() == 0)
                        return -EPERM;
        }
        int e = drop_capabilities();
        if (e < 0)
                return e;
        struct rlimit nproc = {0, 0};
        if (setrlimit(RLIMIT_NPROC, &nproc) < 0)
                return -errno;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return -errno;
        return seccomp_confine();
}

static void __attribute__((noreturn)) worker_main(int sock, const struct vg_pool_config *cfg)
{
        /* Only the socket and stdio stay open (stderr carries sanitizer reports). */
        if (dup2(sock, 3) < 0)
                _exit(70);
        close_range(4, ~0U, 0);
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGPIPE, SIG_IGN);
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (getppid() == 1)
                _exit(70);
        prctl(PR_SET_NAME, "vigie-worker", 0, 0, 0);
        struct vg_engine *eng = NULL;
        /* Everything the parsers would load lazily is loaded here, before the
         * worker confines itself. */
        if (vg_engine_new(cfg->engine, &eng) < 0)
                _exit(71);
        /* jansson seeds its hash function from /dev/urandom on first use: do it
         * now, while opening a file is still allowed. */
        json_object_seed(0);
        if (!(sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL)))
                _exit(71);
        if (vg_worker_confine(cfg) < 0)
                _exit(72);
        /* Members that need seeking (an office file in a mail or an archive, a
         * PDF) are spooled to an unlinked file in workers.tmpdir, as the
         * worker's own user: say at once when that cannot work, rather than
         * let every such member end unscannable without a word. */
        const char *tmpdir = cfg->engine->tmpdir ? cfg->engine->tmpdir : "/tmp";
        int probe = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (probe < 0)
                dprintf(STDERR_FILENO,
                        "vigie-worker: event=worker-tmpdir-unusable tmpdir=\"%s\" uid=%u "
                        "error=\"%s\": documents inside mails and archives will be "
                        "unscannable (held); make workers.tmpdir writable by this user\n",
                        tmpdir, (unsigned)getuid(), strerror(errno));
        else
                close(probe);
        int e = serve(3, eng, cfg->engine->limits.max_file_size);
        vg_engine_free(eng);
        _exit(e < 0 ? 73 : 0);
}

/* ---- the supervisor side ------------------------------------------------ */

static int spawn(struct vg_pool *p, struct worker *w);
static void dispatch(struct vg_pool *p);

static void worker_reset(struct worker *w)
{
        w->io = sd_event_source_disable_unref(w->io);
        w->timer = sd_event_source_disable_unref(w->timer);
        w->child = sd_event_source_disable_unref(w->child);
        if (w->sock >= 0)
                close(w->sock);
        w->sock = -1;
        w->pid = 0;
        vg_buf_free(&w->in);
        w->served = false;
        w->retire = false;
        w->kill_reason = VG_REASON_NONE;
}

static int on_backoff(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void)s;
        (void)usec;
        struct vg_pool *p = userdata;
        p->backoff = sd_event_source_disable_unref(p->backoff);
        for (unsigned i = 0; i < p->n; i++)
                if (!p->w[i].pid)
                        (void)spawn(p, &p->w[i]);
        dispatch(p);
        return 0;
}

static void fail_queue(struct vg_pool *p, enum vg_reason reason)
{
        while (p->head) {
                struct job *j = p->head;
                p->head = j->next;
                p->queued--;
                job_fail(p, j, reason);
                job_free(j);
        }
        p->tail = NULL;
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        (void)s;
        struct worker *w = userdata;
        struct vg_pool *p = w->pool;
        struct job *j = w->job;
        enum vg_reason reason = w->kill_reason ? w->kill_reason : VG_REASON_WORKER_CRASH;
        bool was_serving = w->served || j;
        (void)si;
        w->job = NULL;
        worker_reset(w);
        if (j) {
                job_fail(p, j, reason);
                job_free(j);
        }
        p->restarts++;
        /* A worker that dies before serving anything is failing to start (bad
         * config, missing magic database): back off rather than spin, and fail
         * what waits so nothing hangs and nothing passes. */
        if (!was_serving && ++p->init_fails >= INIT_FAILS_MAX) {
                fail_queue(p, VG_REASON_WORKER_CRASH);
                if (!p->backoff)
                        sd_event_add_time_relative(p->ev, &p->backoff, CLOCK_MONOTONIC, 1000000, 0,
                                                   on_backoff, p);
                return 0;
        }
        if (!p->backoff && spawn(p, w) == 0)
                dispatch(p);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void)s;
        (void)usec;
        struct worker *w = userdata;
        if (w->pid > 0) {
                w->kill_reason = VG_REASON_LIMIT_TIME;
                kill(w->pid, SIGKILL);
        }
        return 0;
}

static void finish_job(struct worker *w, const char *json, size_t len)
{
        struct vg_pool *p = w->pool;
        struct job *j = w->job;
        w->job = NULL;
        w->timer = sd_event_source_disable_unref(w->timer);
        w->served = true;
        p->init_fails = 0;
        json_error_t jerr;
        json_t *doc = json_loadb(json, len, 0, &jerr);
        struct vg_report *r = NULL;
        if (doc && j->kind != JOB_SCAN && json_is_object(doc)) {
                json_t *copy = json_object_get(doc, "copy");
                json_t *replaced = json_object_get(doc, "replaced");
                char *summary = replaced ? json_dumps(replaced, JSON_COMPACT) : NULL;
                if (json_is_object(copy) && vg_report_from_json(copy, &r) < 0)
                        r = NULL;
                j->rdone(j->userdata, r, json_is_true(json_object_get(doc, "as_text")), summary,
                         r || !json_is_object(copy) ? 0 : -EBADMSG);
                json_decref(doc);
                job_free(j);
                return;
        }
        if (!doc || j->kind != JOB_SCAN || vg_report_from_json(doc, &r) < 0) {
                /* A worker that answers nonsense is not trusted again. */
                json_decref(doc);
                job_fail(p, j, VG_REASON_WORKER_CRASH);
                job_free(j);
                kill(w->pid, SIGKILL);
                return;
        }
        json_decref(doc);
        j->done(j->userdata, r, 0);
        job_free(j);
        if (w->retire) {
                /* The child handler spawns its replacement with the new config. */
                kill(w->pid, SIGKILL);
                w->kill_reason = VG_REASON_WORKER_CRASH;
                w->served = true;
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void)s;
        (void)revents;
        struct worker *w = userdata;
        char buf[65536];
        for (;;) {
                ssize_t r = read(fd, buf, sizeof(buf));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0 && errno == EAGAIN)
                        break;
                if (r <= 0) {
                        /* EOF: the child handler does the rest. */
                        w->io = sd_event_source_disable_unref(w->io);
                        return 0;
                }
                if (vg_buf_append(&w->in, buf, (size_t)r) < 0) {
                        w->kill_reason = VG_REASON_LIMIT_MEMORY;
                        kill(w->pid, SIGKILL);
                        return 0;
                }
        }
        while (w->in.len >= 8) {
                uint32_t hdr[2];
                memcpy(hdr, w->in.data, sizeof(hdr));
                if (hdr[1] > REPORT_MAX || !w->job || hdr[0] != w->job->id) {
                        w->kill_reason = VG_REASON_WORKER_CRASH;
                        kill(w->pid, SIGKILL);
                        return 0;
                }
                if (w->in.len < 8 + (size_t)hdr[1])
                        break;
                finish_job(w, w->in.data + 8, hdr[1]);
                vg_buf_consume(&w->in, 8 + (size_t)hdr[1]);
        }
        dispatch(w->pool);
        return 0;
}

static int spawn(struct vg_pool *p, struct worker *w)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int e = -errno;
                close(sv[0]);
                close(sv[1]);
                return e;
        }
        if (pid == 0) {
                close(sv[0]);
                worker_main(sv[1], &p->cfg);
        }
        close(sv[1]);
        w->pool = p;
        w->pid = pid;
        w->sock = sv[0];
        vg_buf_init(&w->in, REPORT_MAX + 8);
        int fl = fcntl(w->sock, F_GETFL);
        fcntl(w->sock, F_SETFL, fl | O_NONBLOCK);
        int e = sd_event_add_io(p->ev, &w->io, w->sock, EPOLLIN, on_io, w);
        if (e >= 0)
                e = sd_event_add_child(p->ev, &w->child, pid, WEXITED, on_child, w);
        if (e < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                worker_reset(w);
                return e;
        }
        return 0;
}

static int send_job(struct worker *w, struct job *j)
{
        size_t nlen = strlen(j->name);
        uint32_t hdr[3] = {j->id, (uint32_t)nlen, j->kind};
        int nfd = j->kind == JOB_SCAN ? 1 : 2;
        int fds[2] = {j->fd, j->out};
        char cbuf[CMSG_SPACE(2 * sizeof(int))];
        memset(cbuf, 0, sizeof(cbuf));
        struct iovec iov[2] = {{hdr, sizeof(hdr)}, {j->name, nlen}};
        struct msghdr mh = {.msg_iov = iov,
                            .msg_iovlen = 2,
                            .msg_control = cbuf,
                            .msg_controllen = CMSG_SPACE((size_t)nfd * sizeof(int))};
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)nfd * sizeof(int));
        /* A few KiB into an empty socket buffer: never partial in practice; a
         * short send is treated as a dead worker. */
        ssize_t r;
        do
                r = sendmsg(w->sock, &mh, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        if (r != (ssize_t)(sizeof(hdr) + nlen))
                return -EPIPE;
        return 0;
}

static void dispatch(struct vg_pool *p)
{
        for (unsigned i = 0; i < p->n && p->head; i++) {
                struct worker *w = &p->w[i];
                if (!w->pid || w->job || w->kill_reason)
                        continue;
                struct job *j = p->head;
                p->head = j->next;
                if (!p->head)
                        p->tail = NULL;
                p->queued--;
                j->next = NULL;
                w->job = j;
                if (send_job(w, j) < 0) {
                        w->kill_reason = VG_REASON_WORKER_CRASH;
                        kill(w->pid, SIGKILL);
                        continue;
                }
                /* The file's own limit plus a grace period; past it, the kill. */
                uint64_t usec =
                    p->cfg.engine->limits.max_scan_time * 1000000ull + p->cfg.grace_ms * 1000ull;
                if (sd_event_add_time_relative(p->ev, &w->timer, CLOCK_MONOTONIC, usec, 0,
                                               on_timeout, w) < 0) {
                        w->kill_reason = VG_REASON_WORKER_CRASH;
                        kill(w->pid, SIGKILL);
                }
        }
}

int vg_pool_new(sd_event *ev, const struct vg_pool_config *cfg, struct vg_pool **ret)
{
        struct vg_pool *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->ev = sd_event_ref(ev);
        p->cfg = *cfg;
        if (!p->cfg.grace_ms)
                p->cfg.grace_ms = 2000;
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        p->n = cfg->count ? cfg->count : (unsigned)(cores > 0 ? cores : 1);
        p->w = calloc(p->n, sizeof(*p->w));
        int e = p->w ? vg_masker_new(cfg->engine->custom, &p->masker) : -ENOMEM;
        if (e < 0)
                goto fail;
        /* sd-event's child sources need SIGCHLD blocked. */
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        for (unsigned i = 0; i < p->n; i++) {
                p->w[i].sock = -1;
                p->w[i].pool = p;
                if ((e = spawn(p, &p->w[i])) < 0)
                        goto fail;
        }
        *ret = p;
        return 0;
fail:
        vg_pool_free(p);
        return e;
}

void vg_pool_free(struct vg_pool *p)
{
        if (!p)
                return;
        for (unsigned i = 0; p->w && i < p->n; i++) {
                struct worker *w = &p->w[i];
                if (w->pid > 0) {
                        kill(w->pid, SIGKILL);
                        waitpid(w->pid, NULL, 0);
                }
                struct job *j = w->job;
                w->job = NULL;
                worker_reset(w);
                if (j) {
                        job_fail(p, j, VG_REASON_WORKER_CRASH);
                        job_free(j);
                }
        }
        fail_queue(p, VG_REASON_WORKER_CRASH);
        sd_event_source_disable_unref(p->backoff);
        vg_masker_free(p->masker);
        free(p->w);
        sd_event_unref(p->ev);
        free(p);
}

static int submit(struct vg_pool *p, int fd, int out, uint32_t kind, const char *name,
                  vg_pool_done_fn done, vg_pool_redact_fn rdone, void *userdata)
{
        if (!name || !*name || strlen(name) > NAME_MAX_BYTES)
                return -EINVAL;
        struct job *j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->out = -1;
        j->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (out >= 0)
                j->out = fcntl(out, F_DUPFD_CLOEXEC, 3);
        j->name = strdup(name);
        if (j->fd < 0 || (out >= 0 && j->out < 0) || !j->name) {
                int e = j->fd < 0 || (out >= 0 && j->out < 0) ? -errno : -ENOMEM;
                job_free(j);
                return e;
        }
        j->id = ++p->next_id;
        j->kind = kind;
        j->done = done;
        j->rdone = rdone;
        j->userdata = userdata;
        if (p->tail)
                p->tail->next = j;
        else
                p->head = j;
        p->tail = j;
        p->queued++;
        dispatch(p);
        return 0;
}

int vg_pool_submit(struct vg_pool *p, int fd, const char *name, vg_pool_done_fn done,
                   void *userdata)
{
        return submit(p, fd, -1, JOB_SCAN, name, done, NULL, userdata);
}

int vg_pool_submit_redact(struct vg_pool *p, int fd, int out, const char *name, bool english,
                          vg_pool_redact_fn done, void *userdata)
{
        return submit(p, fd, out, english ? JOB_REDACT_EN : JOB_REDACT_FR, name, NULL, done,
                      userdata);
}

size_t vg_pool_pending(const struct vg_pool *p)
{
        return p->queued + vg_pool_busy(p);
}

unsigned vg_pool_workers(const struct vg_pool *p)
{
        unsigned n = 0;
        for (unsigned i = 0; i < p->n; i++)
                n += p->w[i].pid > 0;
        return n;
}

unsigned vg_pool_busy(const struct vg_pool *p)
{
        unsigned n = 0;
        for (unsigned i = 0; i < p->n; i++)
                n += p->w[i].job != NULL;
        return n;
}

uint64_t vg_pool_restarts(const struct vg_pool *p)
{
        return p->restarts;
}

pid_t vg_pool_worker_pid(const struct vg_pool *p, unsigned i)
{
        return i < p->n ? p->w[i].pid : 0;
}

int vg_pool_set_engine(struct vg_pool *p, const struct vg_engine_config *engine)
{
        p->cfg.engine = engine;
        for (unsigned i = 0; i < p->n; i++) {
                struct worker *w = &p->w[i];
                if (!w->pid)
                        continue;
                if (w->job) {
                        w->retire = true;
                } else {
                        w->kill_reason = VG_REASON_WORKER_CRASH;
                        w->served = true;
                        kill(w->pid, SIGKILL);
                }
        }
        return 0;
}
