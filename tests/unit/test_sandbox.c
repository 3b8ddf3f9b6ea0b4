/* A confined worker cannot open a file by path, create a network socket, run a
 * program, or exceed its memory limit; it can still spool to an unlinked
 * temporary file. Each check runs in a child process that confines itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker.h"

enum { ATTEMPT_OPEN, ATTEMPT_SOCKET, ATTEMPT_EXEC, ATTEMPT_MEMORY, ATTEMPT_TMPFILE };

/* Exit status: 0 the attempt was refused (or, for TMPFILE, succeeded), 1 not. */
static int in_child(int what)
{
        pid_t pid = fork();
        if (pid == 0) {
                struct vg_pool_config cfg = {.memory = 256u << 20};
                if (vg_worker_confine(&cfg) < 0)
                        _exit(3);
                switch (what) {
                case ATTEMPT_OPEN:
                        _exit(open("/etc/hostname", O_RDONLY) < 0 && errno == EPERM ? 0 : 1);
                case ATTEMPT_SOCKET:
                        _exit(socket(AF_INET, SOCK_STREAM, 0) < 0 ? 0 : 1);
                case ATTEMPT_EXEC: {
                        char *argv[] = {"/bin/true", NULL};
                        execv("/bin/true", argv);
                        _exit(0); /* still here: refused */
                }
                case ATTEMPT_MEMORY: {
                        /* 400 MB against a 256 MB address-space limit */
                        char *p = malloc(400u << 20);
                        if (p)
                                memset(p, 1, 400u << 20);
                        _exit(p ? 1 : 0);
                }
                case ATTEMPT_TMPFILE: {
                        int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
                        _exit(fd >= 0 && write(fd, "x", 1) == 1 ? 0 : 1);
                }
                }
                _exit(2);
        }
        int st;
        waitpid(pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static void test_no_open(void **s)
{
        (void)s;
        assert_int_equal(in_child(ATTEMPT_OPEN), 0);
}

static void test_no_socket(void **s)
{
        (void)s;
        assert_int_equal(in_child(ATTEMPT_SOCKET), 0);
}

static void test_no_exec(void **s)
{
        (void)s;
        assert_int_equal(in_child(ATTEMPT_EXEC), 0);
}

static void test_memory_limit(void **s)
{
        (void)s;
#ifdef VIGIE_SANITIZED
        /* ASan reserves terabytes of address space, so the limit is not set in
         * the sanitizer build: this one check runs in the normal build only. */
        skip();
#else
        assert_int_equal(in_child(ATTEMPT_MEMORY), 0);
#endif
}

static void test_tmpfile_allowed(void **s)
{
        (void)s;
        assert_int_equal(in_child(ATTEMPT_TMPFILE), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_no_open),         cmocka_unit_test(test_no_socket),
            cmocka_unit_test(test_no_exec),         cmocka_unit_test(test_memory_limit),
            cmocka_unit_test(test_tmpfile_allowed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
