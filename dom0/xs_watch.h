/*
 * xs_watch.h - one connection's xenstore watches and the rule that says
 * whether a change fires one of them, and with which path.
 *
 * Rules (docs/misc/xenstore.txt, as cxenstored applies them): a watch on
 * P fires when P or any node below it is written, created, removed or has
 * its permissions changed; removing a node also fires the watches below it
 * (with their own path). The event carries the changed path, made relative
 * again if the watch was set with a relative path, and the watch's token.
 * "@introduceDomain" and "@releaseDomain" fire only on those events.
 * A watch is identified by (path, token): a second identical one is EEXIST.
 */
#ifndef DOM0_XS_WATCH_H
#define DOM0_XS_WATCH_H

#include <stdint.h>

#include "xs_tree.h"

struct xs_watch {
    struct xs_watch *next;
    char *path;                     /* canonical: absolute or "@..." */
    char *token;
    uint32_t strip;                 /* bytes of home prefix to drop in events (0: absolute) */
};

struct xs_watch_list {
    struct xs_watch *head, *tail;   /* in registration order */
    uint32_t n;
};

/* Add (path canonical, token any string, strip = strlen(home) + 1 for a
 * watch set relative, else 0). -EEXIST, -E2BIG beyond max (0: no limit),
 * -ENOMEM. */
int xs_watch_add(struct xs_watch_list *l, const char *path, const char *token, uint32_t strip,
                 uint32_t max);
int xs_watch_remove(struct xs_watch_list *l, const char *path, const char *token);
void xs_watch_clear(struct xs_watch_list *l);

/* Does change fire w? Then *event_path (into change->path or w->path,
 * strip applied) is the path to report. */
int xs_watch_fires(const struct xs_watch *w, const struct xs_change *change,
                   const char **event_path);

#endif
