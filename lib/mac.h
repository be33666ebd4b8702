/* Ethernet MAC addresses as text, "02:42:c0:a8:40:02": the guest reads
 * its NICs' from the boot configuration (initrd/guest.c), the frame
 * switch a VM port's from its greeting and config (net/vport.c). */
#ifndef LIB_MAC_H
#define LIB_MAC_H

#include <stdint.h>

/* Exactly six pairs of hex digits (either case) joined by ':', nothing
 * before or after: 0, or -EINVAL with mac untouched. */
int mac_parse(const char *s, uint8_t mac[6]);

#endif
