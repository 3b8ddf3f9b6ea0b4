#include "spool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEADER    "VIGIE-ENVELOPE 1\n"
#define BLOCK_MAX (VG_ENVELOPE_MAX_RCPTS * (VG_ADDR_MAX + 8) + 1024)

int vg_envelope_addr_ok(const char *a, int is_sender)
{
        size_t n = strlen(a);
        if (n == 0)
                return is_sender;
        if (n >= VG_ADDR_MAX)
                return 0;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)a[i];
                if (c <= ' ' || c == 0x7f || c == '<' || c == '>')
                        return 0;
        }
        return 1;
}

void vg_envelope_clear(struct vg_envelope *env)
{
        free(env->sender);
        for (size_t i = 0; i < env->nrcpts; i++)
                free(env->rcpts[i]);
        free(env->rcpts);
        memset(env, 0, sizeof(*env));
}

/* Reads lines from fd through a small buffer; each line is capped. */
int vg_envelope_read(int fd, struct vg_envelope *env)
{
        memset(env, 0, sizeof(*env));
        char *buf = malloc(BLOCK_MAX);
        if (!buf)
                return -ENOMEM;
        ssize_t n = pread(fd, buf, BLOCK_MAX, 0);
        int e = -EBADMSG;
        if (n < (ssize_t)strlen(HEADER) || memcmp(buf, HEADER, strlen(HEADER)) != 0)
                goto out;
        size_t pos = strlen(HEADER);
        bool have_sender = false;
        env->rcpts = calloc(VG_ENVELOPE_MAX_RCPTS, sizeof(char *));
        if (!env->rcpts) {
                e = -ENOMEM;
                goto out;
        }
        for (;;) {
                char *nl = memchr(buf + pos, '\n', (size_t)n - pos);
                if (!nl)
                        goto out; /* no end line within the cap */
                *nl = '\0';
                char *line = buf + pos;
                pos = (size_t)(nl - buf) + 1;
                if (strcmp(line, "end") == 0)
                        break;
                if (strncmp(line, "sender ", 7) == 0 && !have_sender) {
                        if (!vg_envelope_addr_ok(line + 7, 1) || !(env->sender = strdup(line + 7)))
                                goto out;
                        have_sender = true;
                } else if (strncmp(line, "rcpt ", 5) == 0 && env->nrcpts < VG_ENVELOPE_MAX_RCPTS) {
                        if (!vg_envelope_addr_ok(line + 5, 0) ||
                            !(env->rcpts[env->nrcpts] = strdup(line + 5)))
                                goto out;
                        env->nrcpts++;
                } else {
                        goto out;
                }
        }
        if (!have_sender || env->nrcpts == 0)
                goto out;
        env->message_offset = (off_t)pos;
        e = 0;
out:
        free(buf);
        if (e < 0)
                vg_envelope_clear(env);
        return e;
}
