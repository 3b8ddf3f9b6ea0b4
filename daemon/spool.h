/* The mail spool: tmp/ then new/, one file per mail (Maildir style): an envelope
 * block, then the message, published by one rename. vigie-sendmail writes it;
 * vigied reads it. The envelope block is line-based and bounded:
 *
 *   VIGIE-ENVELOPE 1\n
 *   sender <addr>\n          (empty for the null sender)
 *   rcpt <addr>\n            (one or more)
 *   end\n
 *   <the message, as received>
 */
#pragma once
#include <stddef.h>
#include <sys/types.h>

#define VG_ENVELOPE_MAX_RCPTS 1000
#define VG_ADDR_MAX           512

struct vg_envelope {
        char *sender;
        char **rcpts;
        size_t nrcpts;
        off_t message_offset; /* where the message starts in the spool file */
};

/* Reads and checks the envelope at the start of fd (from offset 0).
 * -EBADMSG on a malformed block. */
int vg_envelope_read(int fd, struct vg_envelope *env);
void vg_envelope_clear(struct vg_envelope *env);
/* Whether an address is acceptable in an envelope (no control characters, no
 * spaces, bounded; "" only as the sender). */
int vg_envelope_addr_ok(const char *addr, int is_sender);
