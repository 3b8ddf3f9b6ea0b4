#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *log_ident = "vigie";
static bool log_prefix;

void vg_log_init(const char *ident)
{
        log_ident = ident;
        /* journald sets JOURNAL_STREAM on the services whose stderr it reads. */
        log_prefix = getenv("JOURNAL_STREAM") != NULL;
}

void vg_log(int prio, const char *fmt, ...)
{
        char line[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (log_prefix)
                fprintf(stderr, "<%d>%s\n", prio, line);
        else
                fprintf(stderr, "%s[%d]: %s\n", log_ident, (int)getpid(), line);
}
