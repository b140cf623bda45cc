/*
 * front_publish.c: PUBLISH (RFC 3903) for the presence and dialog event
 * packages.  Each document is turned into a status at once; the agent
 * keeps only that.
 *
 *   no SIP-If-Match, body      new publication, new entity tag
 *   SIP-If-Match, no body      refresh
 *   SIP-If-Match, body         modify
 *   SIP-If-Match, Expires: 0   remove
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "front/front_int.h"
#include "mapping/mapping.h"

/* A parsed body: its status, and a note for the logs and the store. */
struct front_pub_doc {
    enum pres_status    pd_status;
    char                pd_note[PRES_NOTE_MAX];
};

static char
front_pub_event(const struct front_event *ev)
{
    return ev->fe_kind == FK_DIALOG ? PA_PUB_DIALOG : PA_PUB_PRESENCE;
}

/* Parses body per event package; -1 with why on failure. */
static int
front_publish_parse(const struct front_event *ev, const sip_payload_t *pl,
    struct front_pub_doc *out, char *why, size_t whylen)
{
    static struct dlg_doc dlg;      /* large; the loop is single-threaded */
    struct pres_doc doc;

    if (ev->fe_kind == FK_DIALOG) {
        if (dialoginfo_parse(pl->pl_data, pl->pl_len, &dlg, why,
            whylen) != 0)
            return -1;
        out->pd_status = map_dialog_status(&dlg);
        out->pd_note[0] = '\0';
        return 0;
    }
    if (pidf_parse(pl->pl_data, pl->pl_len, &doc, why, whylen) != 0)
        return -1;
    out->pd_status = map_doc_status(&doc);
    xstrlcpy(out->pd_note, doc.pd_note, sizeof(out->pd_note));
    return 0;
}

/*
 * Checks the body of a PUBLISH and parses it.  Answers the request
 * itself (413, 415, 400) and returns -1 when it is unusable.
 */
static int
front_publish_body(struct front *sf, nua_handle_t *nh, const sip_t *sip,
    const struct front_event *ev, struct front_pub_doc *out)
{
    char why[96], phrase[128];
    const sip_payload_t *pl = sip->sip_payload;

    if (pl->pl_len > (size_t)sf->sf_max_body) {
        front_reply(sf, nh, SIP_413_REQUEST_TOO_LARGE, sip, TAG_END());
        return -1;
    }
    if (sip->sip_content_type == NULL ||
        sip->sip_content_type->c_type == NULL ||
        strcasecmp(sip->sip_content_type->c_type, ev->fe_type) != 0) {
        front_reply(sf, nh, SIP_415_UNSUPPORTED_MEDIA, sip,
            SIPTAG_ACCEPT_STR(ev->fe_type), TAG_END());
        return -1;
    }
    if (front_publish_parse(ev, pl, out, why, sizeof(why)) != 0) {
        snprintf(phrase, sizeof(phrase), "Bad %s: %s",
            ev->fe_kind == FK_DIALOG ? "dialog-info" : "PIDF", why);
        front_reply(sf, nh, 400, phrase, sip, TAG_END());
        return -1;
    }
    return 0;
}

static void
front_publish_ok(struct front *sf, nua_handle_t *nh, const sip_t *sip,
    const char *etag, long expires)
{
    char exp[32];

    snprintf(exp, sizeof(exp), "%ld", expires);
    front_reply(sf, nh, SIP_200_OK, sip, SIPTAG_ETAG_STR(etag),
        SIPTAG_EXPIRES_STR(exp), TAG_END());
}

/* A PUBLISH that names an entity tag: refresh, modify or remove. */
static void
front_publish_existing(struct front *sf, nua_handle_t *nh,
    const sip_t *sip, const struct front_event *ev, struct pa_user *u,
    long expires)
{
    const char *etag = sip->sip_if_match->g_string;
    char newtag[PA_ETAG_MAX];
    struct front_pub_doc doc;
    int has_body = sip->sip_payload && sip->sip_payload->pl_len > 0;
    enum pa_pub_result r;

    if (expires == 0) {
        r = pa_pub_remove(sf->sf_pa, u, front_pub_event(ev), etag);
        if (r == PA_PUB_OK)
            front_publish_ok(sf, nh, sip, etag, 0);
    } else {
        if (has_body && front_publish_body(sf, nh, sip, ev, &doc) != 0)
            return;
        r = pa_pub_update(sf->sf_pa, u, front_pub_event(ev), etag,
            has_body ? (int)doc.pd_status : -1,
            has_body ? doc.pd_note : NULL, expires, newtag);
        if (r == PA_PUB_OK)
            front_publish_ok(sf, nh, sip, newtag, expires);
    }
    /* RFC 3903 section 6: 412 when SIP-If-Match names no entity tag. */
    if (r == PA_PUB_NO_ETAG)
        front_reply(sf, nh, SIP_412_PRECONDITION_FAILED, sip, TAG_END());
}

/*
 * A phone that sends initial PUBLISHes instead of refreshing its own
 * would make publications without end, each stored and restored.  403:
 * trying again does not help until one of the user's publications ends.
 */
static int
front_publish_full(struct front *sf, nua_handle_t *nh, const sip_t *sip,
    struct pa_user *u)
{
    if (pa_user_pub_count(u) < (size_t)sf->sf_max_pubs)
        return 0;
    /* front_reply() logs it: "sip refused method=PUBLISH status=403". */
    front_reply(sf, nh, 403, "Too many publications", sip, TAG_END());
    return 1;
}

void
front_publish_handle(struct front *sf, nua_handle_t *nh, const sip_t *sip)
{
    const struct front_event *ev = front_event_find(sip);
    char etag[PA_ETAG_MAX];
    struct front_pub_doc doc;
    struct pa_user *u;
    long expires;

    if (ev == NULL || !ev->fe_publish) {
        front_reply(sf, nh, SIP_489_BAD_EVENT, sip,
            SIPTAG_ALLOW_EVENTS_STR("presence, dialog"), TAG_END());
        goto out;
    }
    u = front_find_user(sf, sf->sf_nua, nh, sip);
    if (u == NULL)
        goto out;
    expires = front_expires(sf, nh, sip, sf->sf_max_expires);
    if (expires < 0)
        goto out;
    if (sip->sip_if_match != NULL) {
        front_publish_existing(sf, nh, sip, ev, u, expires);
        goto out;
    }
    /* RFC 3903 section 6: an initial PUBLISH must carry a body. */
    if (sip->sip_payload == NULL || sip->sip_payload->pl_len == 0) {
        front_reply(sf, nh, 400, "Initial PUBLISH without body", sip,
            TAG_END());
        goto out;
    }
    if (expires == 0) {
        front_reply(sf, nh, 400, "Expires 0 without SIP-If-Match", sip,
            TAG_END());
        goto out;
    }
    if (front_publish_full(sf, nh, sip, u))
        goto out;
    if (front_publish_body(sf, nh, sip, ev, &doc) == 0) {
        pa_pub_new(sf->sf_pa, u, front_pub_event(ev), doc.pd_status,
            doc.pd_note, expires, etag);
        front_publish_ok(sf, nh, sip, etag, expires);
    }
out:
    /* Each PUBLISH arrives on a handle of its own, with no dialog. */
    nua_handle_destroy(nh);
}
