/* A folder route: watches a folder tree (inotify, recursive), decides each file
 * once it has settled, and delivers it (gate mode), leaves it (in-place mode) or
 * moves it into the quarantine store. Files are handled through directory
 * descriptors only, never through a path a user could swap for a link. */
#pragma once
#include <jansson.h>
#include <stdbool.h>

#include "config.h"

struct vg_manager;
struct vg_folder;

int vg_folder_new(struct vg_manager *m, const struct vg_route *cfg, struct vg_folder **ret);
void vg_folder_free(struct vg_folder *f);
/* Stops watching; frees itself once the files in flight are decided. */
void vg_folder_retire(struct vg_folder *f);
/* Same folders and mode: the running route can take the new settings in place. */
bool vg_folder_same_place(const struct vg_folder *f, const struct vg_route *r);
int vg_folder_update(struct vg_folder *f, const struct vg_route *r);
/* Looks at every file again (start, inotify overflow). */
int vg_folder_rescan(struct vg_folder *f);
const char *vg_folder_name(const struct vg_folder *f);
size_t vg_folder_pending(const struct vg_folder *f);
/* Puts a held item back: in the deliver folder (gate) or where it was (in-place),
 * or in `to`, a folder of the same route; never overwrites. On success *ret_path
 * is the path written (caller frees). */
int vg_folder_release(struct vg_folder *f, const char *id, const char *relpath, const char *sha256,
                      const char *to, char **ret_path, char *err, size_t errsz);
