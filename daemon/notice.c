#include "notice.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "masker.h"

char *vg_notice_text(const char *display_name, const char *id, const struct vg_report *r,
                     enum vg_lang lang)
{
        bool fr = lang == VG_LANG_FR;
        GString *s = g_string_new(NULL);
        char when[64];
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(when, sizeof(when), fr ? "%d/%m/%Y %H:%M" : "%Y-%m-%d %H:%M", &tm);
        if (fr) {
                g_string_append_printf(s,
                                       "Fichier retenu par vigie : %s\n"
                                       "Date : %s\nRéférence : %s\n\n"
                                       "Ce fichier n'a pas été transmis à l'outil d'IA. Il est "
                                       "conservé en sécurité, rien n'est perdu.\n\n",
                                       display_name, when, id);
        } else {
                g_string_append_printf(s,
                                       "File held by vigie: %s\nDate: %s\nReference: %s\n\n"
                                       "This file was not passed on to the AI tool. It is kept "
                                       "safe; nothing is lost.\n\n",
                                       display_name, when, id);
        }
        if (r->verdict == VG_VERDICT_FLAGGED) {
                g_string_append(s, fr ? "Pourquoi : il contient des données qui ne doivent pas "
                                        "sortir du bureau :\n"
                                      : "Why: it contains data that must not leave the "
                                        "office:\n");
                for (size_t i = 0; i < r->nfindings; i++) {
                        const struct vg_finding *f = &r->findings[i];
                        g_string_append_printf(s, "  - %s : %llu (%s",
                                               vg_i18n_detector(lang, f->detector),
                                               (unsigned long long)f->count, f->where);
                        for (size_t k = 0; k < f->nsamples && k < 2; k++)
                                g_string_append_printf(s, "%s%s", k ? ", " : " : ", f->samples[k]);
                        g_string_append(s, ")\n");
                }
        }
        if (r->nunscannable) {
                g_string_append(s, fr ? "Il n'a pas pu être lu entièrement, il est donc retenu "
                                        "par prudence :\n"
                                      : "It could not be read entirely, so it is held to be "
                                        "safe:\n");
                for (size_t i = 0; i < r->nunscannable; i++)
                        g_string_append_printf(s, "  - %s : %s\n", r->unscannable[i].where,
                                               vg_i18n_reason(lang, r->unscannable[i].reason));
        }
        g_string_append_printf(
            s,
            fr ? "\nQue faire ? Retirez les données personnelles ou confidentielles et déposez "
                 "à nouveau le fichier, ou, si vous pensez qu'il s'agit d'une erreur, "
                 "demandez à votre administrateur de le libérer en lui donnant la référence "
                 "%s.\nLes données personnelles ne doivent jamais être envoyées à un outil "
                 "d'IA.\n"
               : "\nWhat to do? Remove the personal or confidential data and drop the file "
                 "again, or, if you think this is a mistake, ask your administrator to release "
                 "it, giving the reference %s.\nPersonal data must never be sent to an AI "
                 "tool.\n",
            id);
        return g_string_free(s, FALSE);
}

int vg_notice_write(int dir, const char *name, const char *id, const struct vg_report *r,
                    enum vg_lang lang, uid_t uid, gid_t gid)
{
        char *file = NULL;
        char *disp = vg_escape_name(name, strlen(name));
        /* The notice's name carries the original name as the user wrote it: it is
         * their own folder. Its content shows it escaped and masked (report path). */
        if (asprintf(&file, "%s%s", name,
                     lang == VG_LANG_FR ? ".vigie-retenu.txt" : ".vigie-held.txt") < 0) {
                free(disp);
                return -ENOMEM;
        }
        char *text = vg_notice_text(r->path && *r->path ? r->path : disp, id, r, lang);
        free(disp);
        int e = 0;
        int fd = openat(dir, file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
                e = -errno;
        } else {
                size_t n = strlen(text);
                if (write(fd, text, n) != (ssize_t)n)
                        e = -EIO;
                if (fchown(fd, uid, gid) < 0 && geteuid() == 0)
                        e = e ? e : -errno;
                close(fd);
        }
        if (e < 0)
                vg_log(LOG_WARNING, "event=notice-failed id=%s error=\"%s\"", id, strerror(-e));
        free(text);
        free(file);
        return e;
}
