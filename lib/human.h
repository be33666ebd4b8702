/* Byte counts for people, in decimal units (1 kB = 1000 B) as Docker and
 * Apple's container print them. */
#ifndef LIB_HUMAN_H
#define LIB_HUMAN_H

#include "lib/buf.h"

enum human_style {
	HUMAN_DOCKER,     /* Docker's units.HumanSize: 4 significant digits, "1.235MB" */
	HUMAN_DECIMAL1,   /* one decimal past bytes, a space: "1.2 MB", "512 B" */
};

/* Append bytes in style to b; a negative count (unknown) is "-". */
void human_size(struct buf *b, double bytes, enum human_style style);

#endif
