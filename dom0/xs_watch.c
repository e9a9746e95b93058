/*
 * xs_watch.c - watch lists and the firing rule (see xs_watch.h).
 *
 * Owns: the watches of one list (path and token strings). Invariant: no
 * two watches of a list have the same (path, token); n is their count.
 */
#include "xs_watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct xs_watch *find(const struct xs_watch_list *l, const char *path, const char *token,
                             struct xs_watch **prev)
{
    struct xs_watch *p = NULL;

    for (struct xs_watch *w = l->head; w; p = w, w = w->next)
        if (!strcmp(w->path, path) && !strcmp(w->token, token)) {
            if (prev)
                *prev = p;
            return w;
        }
    return NULL;
}

int xs_watch_add(struct xs_watch_list *l, const char *path, const char *token, uint32_t strip,
                 uint32_t max)
{
    struct xs_watch *w;

    if (find(l, path, token, NULL))
        return -EEXIST;
    if (max && l->n >= max)
        return -E2BIG;
    if (strip > strlen(path))
        return -EINVAL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->path = strdup(path);
    w->token = strdup(token);
    if (!w->path || !w->token) {
        free(w->path);
        free(w->token);
        free(w);
        return -ENOMEM;
    }
    w->strip = strip;
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
    l->n++;
    return 0;
}

static void watch_free(struct xs_watch *w)
{
    free(w->path);
    free(w->token);
    free(w);
}

int xs_watch_remove(struct xs_watch_list *l, const char *path, const char *token)
{
    struct xs_watch *prev = NULL, *w = find(l, path, token, &prev);

    if (!w)
        return -ENOENT;
    if (prev)
        prev->next = w->next;
    else
        l->head = w->next;
    if (l->tail == w)
        l->tail = prev;
    l->n--;
    watch_free(w);
    return 0;
}

void xs_watch_clear(struct xs_watch_list *l)
{
    struct xs_watch *w = l->head, *next;

    for (; w; w = next) {
        next = w->next;
        watch_free(w);
    }
    l->head = l->tail = NULL;
    l->n = 0;
}

static const char *stripped(const char *path, uint32_t strip)
{
    /* a relative watch reports relative paths for nodes below its home;
     * a change elsewhere (e.g. "/" removed) keeps its absolute path */
    if (strip && strlen(path) >= strip && path[strip - 1] == '/')
        return path + strip;
    return path;
}

int xs_watch_fires(const struct xs_watch *w, const struct xs_change *change,
                   const char **event_path)
{
    if (w->path[0] == '@' || change->path[0] == '@') {
        if (strcmp(w->path, change->path))
            return 0;
        *event_path = w->path;
        return 1;
    }
    if (xs_path_is_under(change->path, w->path)) {
        *event_path = stripped(change->path, w->strip);
        return 1;
    }
    if (change->recursive && xs_path_is_under(w->path, change->path)) {
        *event_path = stripped(w->path, w->strip);
        return 1;
    }
    return 0;
}
