/*
 * pres_text.h: the checks on text that the presence builders put into
 * the documents they write.  Internal to src/presence; the module's
 * interface is presence.h.
 */
#ifndef PRESGW_PRES_TEXT_H
#define PRESGW_PRES_TEXT_H

#include <stddef.h>

/*
 * Is s printable ASCII (0x20 to 0x7E) shorter than max bytes?  The empty
 * string is; NULL is not.  SIP allows nothing else in a URI, an id or a
 * tag, and such text goes into a header or an attribute unchanged.
 */
int pres_text_printable(const char *s, size_t max);

/* As pres_text_printable(), but the empty string is refused as well. */
int pres_text_token(const char *s, size_t max);

/*
 * The length of the UTF-8 character at s when it is one XML 1.0 allows
 * in text (no controls, surrogates, U+FFFE/U+FFFF, no overlong forms),
 * else 0.  A NUL byte stops a sequence as any other bad byte does.
 */
size_t pres_text_utf8_len(const unsigned char *s);

#endif
