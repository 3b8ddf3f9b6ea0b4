#include "alert_webhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail_format.h"

void vg_webhook_request_clear(struct vg_webhook_request *r)
{
        free(r->body);
        for (size_t i = 0; i < sizeof(r->headers) / sizeof(r->headers[0]); i++)
                free(r->headers[i]);
        memset(r, 0, sizeof(*r));
}

/* The keys of a view that make the JSON document: facts and words, not the
 * template helpers. */
static json_t *pick(const json_t *view, const char *const *keys)
{
        json_t *o = json_object();
        for (size_t i = 0; o && keys[i]; i++) {
                json_t *v = json_object_get(view, keys[i]);
                if (v)
                        json_object_set(o, keys[i], v);
        }
        return o;
}

static json_t *commands(const json_t *view)
{
        if (!json_is_true(json_object_get(view, "held")))
                return json_null();
        return json_pack("{s:O, s:O, s:O}", "show", json_object_get(view, "show_cmd"), "release",
                         json_object_get(view, "release_cmd"), "delete",
                         json_object_get(view, "delete_cmd"));
}

static const char *const alert_keys[] = {
    "id",           "time",          "date",        "host",   "route",      "kind",    "file",
    "origin",       "owner",         "owner_uid",   "sender", "recipients", "verdict", "action",
    "verdict_text", "outcome_text",  "monitor",     "held",   "detectors",  "summary", "total",
    "findings",     "more_findings", "unscannable", "sha256", NULL,
};

static json_t *alert_doc(const json_t *view)
{
        json_t *o = pick(view, alert_keys);
        if (!o)
                return NULL;
        /* the template helpers inside findings stay out of the document */
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(o, "findings"), i, f)
        {
                json_object_del(f, "samples");
                json_object_del(f, "samples_all");
        }
        json_object_set_new(o, "commands", commands(view));
        return o;
}

static json_t *json_doc(const char *kind, const json_t *view, const char *text)
{
        json_t *o;
        if (strcmp(kind, "digest") == 0) {
                static const char *const keys[] = {"id",   "time",  "date",   "host",     "count",
                                                   "more", "since", "routes", "list_cmd", NULL};
                if (!(o = pick(view, keys)))
                        return NULL;
                /* one line per alert: a digest may hold hundreds */
                static const char *const brief[] = {
                    "id",     "time",    "route",  "kind",    "file", "origin", "owner",
                    "sender", "verdict", "action", "summary", "held", NULL};
                json_t *list = json_array();
                size_t i;
                json_t *a;
                json_array_foreach(json_object_get(view, "alerts"), i, a)
                    json_array_append_new(list, pick(a, brief));
                json_object_set_new(o, "alerts", list ? list : json_array());
        } else {
                o = alert_doc(view);
        }
        if (!o)
                return NULL;
        json_object_set_new(o, "type", json_string(kind));
        json_object_set_new(o, "vigie", json_string(VIGIE_VERSION));
        json_object_set_new(o, "text", json_string(text));
        return o;
}

static int header(struct vg_webhook_request *r, size_t *n, const char *name, const char *value)
{
        if (strpbrk(value, "\r\n"))
                return -EINVAL;
        if (*n + 1 >= sizeof(r->headers) / sizeof(r->headers[0]))
                return -E2BIG;
        if (asprintf(&r->headers[*n], "%s: %s", name, value) < 0) {
                r->headers[*n] = NULL;
                return -ENOMEM;
        }
        (*n)++;
        return 0;
}

int vg_alert_webhook_build(const struct vg_templates *t, enum vg_lang lang,
                           const struct vg_webhook *w, const char *kind, const char *id,
                           const json_t *view, struct vg_webhook_request *ret)
{
        struct vg_webhook_request r = {0};
        size_t nh = 0;
        const char *format = w->format ? w->format : "json";
        bool digest = strcmp(kind, "digest") == 0;
        char *text = NULL;
        int e = vg_template_render(
            vg_templates_get(t, digest ? VG_TPL_DIGEST_CHAT : VG_TPL_ALERT_CHAT, lang), view,
            VG_TEMPLATE_MAX_OUT, &text);
        if (e < 0)
                return e;
        e = header(&r, &nh, "X-Vigie-Alert-Id", id);
        if (e == 0 && w->bearer) {
                char *v = NULL;
                e = asprintf(&v, "Bearer %s", w->bearer) < 0 ? -ENOMEM : 0;
                if (e == 0)
                        e = header(&r, &nh, "Authorization", v);
                free(v);
        }
        if (e == 0 && strcmp(format, "ntfy") == 0) {
                /* ntfy: the first line is the title, the rest the message */
                char *nl = strchr(text, '\n');
                char *title = nl ? strndup(text, (size_t)(nl - text)) : strdup(text);
                const char *rest = nl ? nl + 1 : "";
                while (*rest == '\n')
                        rest++;
                char *enc = title ? vg_mail_encode_header(title) : NULL;
                /* encoded words fold with CRLF SP: one header line for ntfy */
                char *q = enc;
                for (char *p = enc; p && *p; p++)
                        if (*p != '\r' && *p != '\n')
                                *q++ = *p;
                if (q)
                        *q = '\0';
                e = enc ? header(&r, &nh, "Title", enc) : -ENOMEM;
                if (e == 0)
                        e = header(&r, &nh, "Priority",
                                   strcmp(kind, "alert") == 0 ? "high" : "default");
                if (e == 0)
                        e = header(&r, &nh, "Tags", "warning");
                free(title);
                free(enc);
                r.content_type = "text/plain; charset=utf-8";
                if (e == 0 && !(r.body = strdup(*rest ? rest : text)))
                        e = -ENOMEM;
        } else if (e == 0) {
                json_t *doc = strcmp(format, "slack") == 0
                                  ? json_pack("{s:s, s:s}", "text", text, "username", "vigie")
                                  : json_doc(kind, view, text);
                r.content_type = "application/json";
                if (!doc || !(r.body = json_dumps(doc, JSON_COMPACT)))
                        e = -ENOMEM;
                json_decref(doc);
        }
        free(text);
        if (e < 0) {
                vg_webhook_request_clear(&r);
                return e;
        }
        *ret = r;
        return 0;
}
