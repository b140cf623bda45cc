/*
 * front_list.c: resource list subscriptions (RFC 4662), for the BLF list
 * keys of Yealink, Grandstream and BroadWorks-style phones.  One
 * SUBSCRIBE to a list URI watches every user on the list; NOTIFYs carry
 * multipart/related bodies: an RLMI document and one part per user.
 * The first NOTIFY has full state; later ones only the users that
 * changed.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "front/front_int.h"
#include "store/store.h"

struct front_list {
    char       *fl_uri;
    char      **fl_members;
    size_t      fl_n;
};

static void
front_list_free_one(void *arg, void *val)
{
    struct front_list *fl = val;
    size_t i;

    (void)arg;
    for (i = 0; i < fl->fl_n; i++)
        free(fl->fl_members[i]);
    free(fl->fl_members);
    free(fl->fl_uri);
    free(fl);
}

void
front_lists_free(struct front *sf)
{
    if (sf->sf_lists.ht_slots == NULL)
        return;
    htab_each(&sf->sf_lists, front_list_free_one, NULL);
    htab_free(&sf->sf_lists);
}

/* A list may not be a user; members that are not users are left out
 * (a user removed from the map leaves its lists). */
static int
front_lists_check(struct front *sf, const struct store_list *l, size_t n,
    char **err)
{
    struct buf errs;
    size_t i, j;

    buf_init(&errs, 16384);
    for (i = 0; i < n; i++) {
        if (pa_user_find(sf->sf_pa, l[i].sl_uri) != NULL)
            buf_printf(&errs, "list %s is also a user\n", l[i].sl_uri);
        for (j = 0; j < l[i].sl_n; j++)
            if (pa_user_find(sf->sf_pa, l[i].sl_members[j]) == NULL)
                log_warn("front list-member-unknown list=%s member=%s "
                    "action=left-out", l[i].sl_uri, l[i].sl_members[j]);
    }
    if (errs.b_len == 0) {
        buf_free(&errs);
        return 0;
    }
    *err = buf_steal(&errs);
    return -1;
}

int
front_set_lists(struct front *sf, const struct store_list *l, size_t n,
    char **err)
{
    struct front_list *fl;
    size_t i, j;

    if (front_lists_check(sf, l, n, err) != 0)
        return -1;
    front_lists_free(sf);
    htab_init(&sf->sf_lists);
    for (i = 0; i < n; i++) {
        fl = xcalloc(1, sizeof(*fl));
        fl->fl_uri = xstrdup(l[i].sl_uri);
        fl->fl_members = xcalloc(l[i].sl_n, sizeof(char *));
        for (j = 0; j < l[i].sl_n; j++)
            if (pa_user_find(sf->sf_pa, l[i].sl_members[j]) != NULL)
                fl->fl_members[fl->fl_n++] = xstrdup(l[i].sl_members[j]);
        htab_put(&sf->sf_lists, fl->fl_uri, fl);
    }
    log_info("front lists-loaded lists=%zu", n);
    return 0;
}

/* The list a request URI names, or NULL. */
static struct front_list *
front_list_find(struct front *sf, const sip_t *sip)
{
    const url_t *uri = sip->sip_request->rq_url;
    char aor[256];

    if (sf->sf_lists.ht_slots == NULL || uri->url_user == NULL ||
        uri->url_host == NULL)
        return NULL;
    snprintf(aor, sizeof(aor), "%s@%s", uri->url_user, uri->url_host);
    if (usermap_canon(aor, sf->sf_domain, aor, sizeof(aor)) == 0 &&
        htab_get(&sf->sf_lists, aor) != NULL)
        return htab_get(&sf->sf_lists, aor);
    snprintf(aor, sizeof(aor), "%s@%s", uri->url_user, sf->sf_domain);
    if (usermap_canon(aor, sf->sf_domain, aor, sizeof(aor)) != 0)
        return NULL;
    return htab_get(&sf->sf_lists, aor);
}

/* The part of one member, or NULL when it has no state to show. */
static char *
front_member_body(struct front_sub *ss, struct front_member *m)
{
    struct pa_state st;
    char entity[300];

    if (m->fm_watcher == NULL)
        return NULL;
    pa_watch_state(m->fm_watcher, &st);
    snprintf(entity, sizeof(entity), "sip:%s", m->fm_aor);
    if (ss->ss_event->fe_kind == FK_DIALOG)
        return dialoginfo_build(entity, m->fm_version++, st.ps_view, NULL);
    return pidf_build_for(entity, st.ps_view, NULL, ss->ss_flavour);
}

/*
 * Sends the members that changed (all of them when full) in one NOTIFY.
 * Returns 0 when nothing needed sending.
 */
static int
front_list_send(struct front_sub *ss, int full, enum nua_substate substate)
{
    struct rlmi_part *parts = xcalloc(ss->ss_nmembers, sizeof(*parts));
    char boundary[64], cid[96], uri[300], *body, *ctype;
    size_t i, n = 0;

    for (i = 0; i < ss->ss_nmembers; i++) {
        struct front_member *m = &ss->ss_members[i];

        if (!full && !m->fm_dirty)
            continue;
        m->fm_dirty = 0;
        parts[n].rp_uri = m->fm_uri;
        parts[n].rp_type = ss->ss_event->fe_type;
        parts[n].rp_body = front_member_body(ss, m);
        n++;
    }
    if (n == 0 && !full && substate != nua_substate_terminated) {
        free(parts);
        return 0;
    }
    if (full)
        ss->ss_list_full = 0;
    snprintf(uri, sizeof(uri), "sip:%s", ss->ss_aor);
    body = rlmi_build(uri, ss->ss_rlmi_version++, full, parts, n,
        boundary, cid);
    for (i = 0; i < n; i++)
        free((char *)(uintptr_t)parts[i].rp_body);
    free(parts);
    if (body == NULL) {
        log_warn("subscribe list-body-failed list=%s", ss->ss_aor);
        return 0;
    }
    ctype = xasprintf("multipart/related;type=\"application/rlmi+xml\";"
        "start=\"<%s>\";boundary=\"%s\"", cid, boundary);
    /* RFC 4662 section 5: NOTIFYs of a list carry Require: eventlist. */
    front_notify_body(ss, substate, NULL, ctype, body, "eventlist");
    free(ctype);
    free(body);
    return 1;
}

/* RFC 4662 section 5: the list body types must be acceptable. */
static int
front_list_accepts(const sip_t *sip)
{
    const sip_accept_t *ac;

    if (sip->sip_accept == NULL)
        return 1;
    for (ac = sip->sip_accept; ac != NULL; ac = ac->ac_next)
        if (ac->ac_type != NULL &&
            strcasecmp(ac->ac_type, "multipart/related") == 0)
            return 1;
    return 0;
}

/* Refusals of a list SUBSCRIBE; 1 when answered. */
static int
front_list_refuse(struct front *sf, nua_handle_t *nh, const sip_t *sip,
    const struct front_event *ev)
{
    char accept[128];

    if (ev->fe_kind == FK_FEATURE) {
        front_reply(sf, nh, SIP_489_BAD_EVENT, sip,
            SIPTAG_ALLOW_EVENTS_STR("presence, dialog"), TAG_END());
        return 1;
    }
    /* RFC 4662 section 5: a list needs the subscriber's eventlist. */
    if (!sip_has_supported(sip->sip_supported, "eventlist")) {
        front_reply(sf, nh, SIP_421_EXTENSION_REQUIRED, sip,
            SIPTAG_REQUIRE_STR("eventlist"), TAG_END());
        return 1;
    }
    if (!front_list_accepts(sip)) {
        snprintf(accept, sizeof(accept), "multipart/related, "
            "application/rlmi+xml, %s", ev->fe_type);
        front_reply(sf, nh, SIP_406_NOT_ACCEPTABLE, sip,
            SIPTAG_ACCEPT_STR(accept), TAG_END());
        return 1;
    }
    return 0;
}

static void
front_list_watch(struct front *sf, struct front_sub *ss,
    const struct front_list *fl)
{
    struct pa_user *u;
    size_t i;

    ss->ss_members = xcalloc(fl->fl_n, sizeof(*ss->ss_members));
    ss->ss_nmembers = fl->fl_n;
    for (i = 0; i < fl->fl_n; i++) {
        struct front_member *m = &ss->ss_members[i];

        xstrlcpy(m->fm_aor, fl->fl_members[i], sizeof(m->fm_aor));
        snprintf(m->fm_uri, sizeof(m->fm_uri), "sip:%s", m->fm_aor);
        u = pa_user_find(sf->sf_pa, m->fm_aor);
        if (u != NULL)
            m->fm_watcher = pa_watch_add(sf->sf_pa, u, ss);
    }
}

int
front_list_subscribe(struct front *sf, nua_handle_t *nh, const sip_t *sip,
    const struct front_event *ev)
{
    struct front_list *fl = front_list_find(sf, sip);
    struct front_sub *ss;
    long expires;

    if (fl == NULL)
        return 0;
    if (front_list_refuse(sf, nh, sip, ev))
        return 1;
    expires = front_expires(sf, nh, sip, sf->sf_max_expires);
    if (expires < 0)
        return 1;
    ss = xcalloc(1, sizeof(*ss));
    ss->ss_front = sf;
    ss->ss_nh = nh;
    ss->ss_event = ev;
    ss->ss_shown = -1;
    ss->ss_is_list = 1;
    ss->ss_flavour = pidf_flavour_of(sip->sip_user_agent ?
        sip->sip_user_agent->g_string : NULL);
    xstrlcpy(ss->ss_aor, fl->fl_uri, sizeof(ss->ss_aor));
    nua_handle_bind(nh, ss);
    front_sub_link(sf, ss);
    front_reply(sf, nh, SIP_200_OK, sip, SIPTAG_REQUIRE_STR("eventlist"),
        TAG_END());
    if (expires > 0)
        front_keep_request(ss, sip, expires);
    log_info("subscribe accepted list=%s watcher=%s event=%s members=%zu"
        " expires=%ld", ss->ss_aor, sip->sip_from->a_url->url_user ?
        sip->sip_from->a_url->url_user : "-", ev->fe_name, fl->fl_n,
        expires);
    front_list_watch(sf, ss, fl);
    front_list_send(ss, 1, expires == 0 ? nua_substate_terminated
        : nua_substate_active);
    if (expires == 0)
        front_list_release(ss);
    return 2;
}

static struct front_member *
front_member_find(struct front_sub *ss, const char *aor)
{
    size_t i;

    for (i = 0; i < ss->ss_nmembers; i++)
        if (strcmp(ss->ss_members[i].fm_aor, aor) == 0)
            return &ss->ss_members[i];
    return NULL;
}

void
front_list_changed(struct front_sub *ss, const struct pa_state *st)
{
    struct front_member *m = front_member_find(ss, st->ps_aor);

    if (m == NULL || ss->ss_ending)
        return;
    m->fm_dirty = 1;
    if (!ss->ss_inflight)
        front_list_send(ss, ss->ss_list_full, nua_substate_active);
}

/* A resumed list subscription watches its members again, their body
 * versions above any sent before. */
int
front_list_resume(struct front_sub *ss, unsigned long version)
{
    struct front *sf = ss->ss_front;
    struct front_list *fl;
    size_t i;

    if (sf->sf_lists.ht_slots == NULL)
        return -1;
    fl = htab_get(&sf->sf_lists, ss->ss_aor);
    if (fl == NULL)
        return -1;
    front_list_watch(sf, ss, fl);
    for (i = 0; i < ss->ss_nmembers; i++)
        ss->ss_members[i].fm_version = version;
    return 0;
}

/* The highest body version of any member: what a resume must pass. */
unsigned long
front_list_version(const struct front_sub *ss)
{
    unsigned long v = 0;
    size_t i;

    for (i = 0; i < ss->ss_nmembers; i++)
        if (ss->ss_members[i].fm_version > v)
            v = ss->ss_members[i].fm_version;
    return v;
}

void
front_list_flush_full(struct front_sub *ss)
{
    if (!ss->ss_ending)
        front_list_send(ss, 1, nua_substate_active);
}

void
front_list_flush(struct front_sub *ss)
{
    if (!ss->ss_ending)
        front_list_send(ss, ss->ss_list_full, nua_substate_active);
}

/*
 * A member whose user left the map leaves the list, as it would at the
 * next start.  A partial NOTIFY can only tell of resources still there
 * (RFC 4662 section 5.2), so the next NOTIFY has full state without it.
 */
void
front_list_member_gone(struct front_sub *ss, const char *aor)
{
    struct front_member *m = front_member_find(ss, aor);
    size_t i;

    if (m == NULL)
        return;
    /* Its watcher is the agent's to free. */
    i = (size_t)(m - ss->ss_members);
    memmove(m, m + 1, (ss->ss_nmembers - i - 1) * sizeof(*m));
    ss->ss_nmembers--;
    ss->ss_list_full = 1;
    log_info("subscribe list-member-left list=%s member=%s", ss->ss_aor,
        aor);
    if (!ss->ss_inflight && !ss->ss_ending)
        front_list_send(ss, 1, nua_substate_active);
}

void
front_list_release(struct front_sub *ss)
{
    size_t i;

    for (i = 0; i < ss->ss_nmembers; i++)
        if (ss->ss_members[i].fm_watcher != NULL)
            pa_watch_del(ss->ss_front->sf_pa, ss->ss_members[i].fm_watcher);
    free(ss->ss_members);
    ss->ss_members = NULL;
    ss->ss_nmembers = 0;
    ss->ss_ending = 1;
}
