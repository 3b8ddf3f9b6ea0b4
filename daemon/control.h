/* The control socket: JSON lines over a Unix socket. Only root and members of
 * the admin group (SO_PEERCRED, SO_PEERGROUPS) are served; others get a clear
 * refusal. Every admin action is written to the audit log with uid, user name,
 * time and reason. */
#pragma once

struct vg_manager;
struct vg_control;

int vg_control_new(struct vg_manager *m, const char *path, struct vg_control **ret);
void vg_control_free(struct vg_control *c);
