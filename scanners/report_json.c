#include "report_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* json_object_set_new() steals the value even on failure; a NULL value (allocation
 * failure) makes it fail, which we report as -ENOMEM. */
static int set(json_t *o, const char *k, json_t *v)
{
        return json_object_set_new(o, k, v) == 0 ? 0 : -ENOMEM;
}

json_t *vg_report_to_json(const struct vg_report *r)
{
        json_t *o = json_object();
        json_t *fa = json_array();
        json_t *ua = json_array();
        if (!o || !fa || !ua)
                goto fail;
        int e = 0;
        e |= set(o, "path", json_string(r->path));
        e |= set(o, "verdict", json_string(vg_verdict_name(r->verdict)));
        e |= set(o, "action", json_string(vg_action_name(r->action)));
        e |= set(o, "type", json_string(r->type ? r->type : "application/octet-stream"));
        e |= set(o, "size", json_integer((json_int_t)r->size));
        if (r->sha256[0])
                e |= set(o, "sha256", json_string(r->sha256));
        if (r->type_mismatch)
                e |= set(o, "type_mismatch", json_true());
        if (r->policy)
                e |= set(o, "policy", json_string(r->policy));
        if (r->monitor)
                e |= set(o, "monitor", json_true());
        for (size_t i = 0; i < r->nfindings; i++) {
                const struct vg_finding *f = &r->findings[i];
                json_t *fo = json_object();
                json_t *sa = json_array();
                if (!fo || !sa) {
                        json_decref(fo);
                        json_decref(sa);
                        goto fail;
                }
                for (size_t k = 0; k < f->nsamples; k++)
                        e |= json_array_append_new(sa, json_string(f->samples[k]));
                e |= set(fo, "detector", json_string(f->detector));
                e |= set(fo, "count", json_integer((json_int_t)f->count));
                e |= set(fo, "distinct", json_integer((json_int_t)f->distinct));
                e |= set(fo, "where", json_string(f->where));
                e |= set(fo, "masked", sa);
                e |= json_array_append_new(fa, fo);
        }
        for (size_t i = 0; i < r->nunscannable; i++) {
                json_t *uo = json_object();
                if (!uo)
                        goto fail;
                e |= set(uo, "where", json_string(r->unscannable[i].where));
                e |= set(uo, "reason", json_string(vg_reason_name(r->unscannable[i].reason)));
                e |= json_array_append_new(ua, uo);
        }
        e |= set(o, "findings", fa);
        fa = NULL;
        e |= set(o, "unscannable", ua);
        ua = NULL;
        if (e)
                goto fail;
        return o;
fail:
        json_decref(o);
        json_decref(fa);
        json_decref(ua);
        return NULL;
}

char *vg_report_to_json_line(const struct vg_report *r)
{
        json_t *j = vg_report_to_json(r);
        if (!j)
                return NULL;
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(j);
        return s;
}

static const char *str_field(const json_t *o, const char *k)
{
        return json_string_value(json_object_get(o, k));
}

int vg_report_from_json(const json_t *j, struct vg_report **ret)
{
        if (!json_is_object(j))
                return -EINVAL;
        const char *path = str_field(j, "path");
        const char *type = str_field(j, "type");
        int verdict = vg_verdict_from_name(str_field(j, "verdict"));
        int action = vg_action_from_name(str_field(j, "action"));
        const json_t *fa = json_object_get(j, "findings");
        const json_t *ua = json_object_get(j, "unscannable");
        if (!path || !type || verdict < 0 || action < 0 || !json_is_array(fa) || !json_is_array(ua))
                return -EINVAL;
        struct vg_report *r = vg_report_new(path);
        if (!r)
                return -ENOMEM;
        int e = vg_report_set_type(r, type);
        r->verdict = (enum vg_verdict)verdict;
        r->action = (enum vg_action)action;
        r->type_mismatch = json_is_true(json_object_get(j, "type_mismatch"));
        r->monitor = json_is_true(json_object_get(j, "monitor"));
        json_int_t size = json_integer_value(json_object_get(j, "size"));
        r->size = size > 0 ? (uint64_t)size : 0;
        const char *sha = str_field(j, "sha256");
        if (sha && strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64)
                memcpy(r->sha256, sha, 65);
        else if (sha)
                e = -EINVAL;
        const char *policy = str_field(j, "policy");
        if (!e && policy && !(r->policy = strdup(policy)))
                e = -ENOMEM;
        size_t i;
        const json_t *v;
        json_array_foreach(fa, i, v)
        {
                if (e)
                        break;
                const char *det = str_field(v, "detector");
                const char *where = str_field(v, "where");
                const json_t *sa = json_object_get(v, "masked");
                json_int_t count = json_integer_value(json_object_get(v, "count"));
                json_int_t distinct = json_integer_value(json_object_get(v, "distinct"));
                if (!det || !where || !json_is_array(sa) || count < 0 || distinct < 0) {
                        e = -EINVAL;
                        break;
                }
                const char *samples[VG_MAX_SAMPLES];
                size_t n = 0, k;
                const json_t *s;
                json_array_foreach(sa, k, s)
                {
                        if (!json_is_string(s)) {
                                e = -EINVAL;
                                break;
                        }
                        if (n < VG_MAX_SAMPLES)
                                samples[n++] = json_string_value(s);
                }
                if (!e)
                        e = vg_report_add_finding(r, det, where, (uint64_t)count,
                                                  (uint64_t)distinct, samples, n);
        }
        json_array_foreach(ua, i, v)
        {
                if (e)
                        break;
                const char *where = str_field(v, "where");
                int reason = vg_reason_from_name(str_field(v, "reason"));
                if (!where || reason < 0) {
                        e = -EINVAL;
                        break;
                }
                e = vg_report_add_unscannable(r, where, (enum vg_reason)reason);
        }
        if (e) {
                vg_report_free(r);
                return e;
        }
        *ret = r;
        return 0;
}
