/* The supervisor's state, shared by its parts (routes, control socket). One
 * manager per vigied process, owned by main.c. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "config.h"
#include "i18n.h"
#include "scan.h"

struct vg_pool;
struct vg_store;
struct vg_masker;
struct vg_folder;
struct vg_mailroute;
struct vg_control;
struct vg_alerts;

struct vg_counters {
        uint64_t scanned;
        uint64_t clean;
        uint64_t flagged;
        uint64_t unscannable;
        uint64_t delivered;
        uint64_t held;
        uint64_t special;
        uint64_t errors;
};

struct vg_manager {
        sd_event *event;
        const char *config_path;
        struct vg_config *config;
        struct vg_engine_config engine_cfg;
        struct vg_pool *pool;
        struct vg_store *store;
        struct vg_masker *masker;
        struct vg_folder **folders;
        size_t nfolders;
        struct vg_mailroute **mail;
        size_t nmail;
        struct vg_control *control;
        struct vg_alerts *alerts; /* outbox, channels, templates (alert.c) */
        sd_event_source *purge_timer;
        time_t started;
        unsigned reloads;
        enum vg_lang lang;
        struct vg_counters counters;
};

/* Reloads the configuration (SIGHUP or `vigiectl reload`); a broken file is
 * refused and the old one kept. Writes a message into msg. */
int vg_manager_reload(struct vg_manager *m, char *msg, size_t msgsz);
void vg_manager_notify_status(struct vg_manager *m);
struct vg_folder *vg_manager_folder(struct vg_manager *m, const char *route);
struct vg_mailroute *vg_manager_mailroute(struct vg_manager *m, const char *route);
