/* A mail route: takes mails from a spool's new/ folder (those present at start
 * too), has each whole message scanned, forwards clean ones with their original
 * envelope (SMTP relay, in a child process, retried with backoff while the relay
 * is down) and holds flagged or unreadable ones in the quarantine store, telling
 * the sender. The policy depends on the recipients: internal domains, external
 * recipients, AI-service domains; a mail gets the most severe action. */
#pragma once
#include <stdbool.h>

#include "config.h"

struct vg_manager;
struct vg_mailroute;

int vg_mailroute_new(struct vg_manager *m, const struct vg_route *cfg, struct vg_mailroute **ret);
void vg_mailroute_free(struct vg_mailroute *r);
const char *vg_mailroute_name(const struct vg_mailroute *r);
size_t vg_mailroute_pending(const struct vg_mailroute *r);
/* Forwards a held mail with its original envelope. */
int vg_mailroute_release(struct vg_mailroute *r, const char *id, char *err, size_t errsz);
/* A held mail was deleted: its sender is told when the route says so
 * (tell_sender_on_delete) and the sender is inside the office. */
int vg_mailroute_deleted(struct vg_mailroute *r, const char *id);
/* The built-in list of AI-service domains (used when a route names none). */
extern const char *const vg_ai_domains_default[];
