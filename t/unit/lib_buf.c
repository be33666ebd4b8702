/* The growable buffer: growth, formatting without truncation, limits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "t/tap.h"

int main(void)
{
	struct buf b = BUF_INIT;
	char big[10000];

	is_str(buf_str(&b), "", "a never-grown buffer is an empty string");
	is_int(buf_puts(&b, "hello"), 0, "puts");
	is_int(buf_printf(&b, " %s %d", "world", 42), 0, "printf");
	is_str(buf_str(&b), "hello world 42", "contents");
	is_int(b.len, 14, "len excludes the NUL");

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(buf_printf(&b, "%s", big), 0, "long formatted append grows, never truncates");
	is_int(b.len, 14 + 9999, "length after long append");
	ok(b.data[b.len] == '\0', "still NUL-terminated");

	buf_consume(&b, 6);
	ok(strncmp(buf_str(&b), "world 42x", 9) == 0, "consume drops the front");
	buf_truncate(&b, 5);
	is_str(buf_str(&b), "world", "truncate");
	buf_reset(&b);
	is_str(buf_str(&b), "", "reset");
	is_int(buf_append(&b, "a\0b", 3), 0, "binary append");
	ok(b.len == 3 && memcmp(b.data, "a\0b", 3) == 0, "embedded NUL kept");
	buf_free(&b);

	buf_init(&b, 8);
	is_int(buf_puts(&b, "12345678"), 0, "exactly at the limit");
	is_int(buf_putc(&b, '9'), -E2BIG, "one past the limit fails");
	is_str(buf_str(&b), "12345678", "failed append leaves contents unchanged");
	is_int(buf_printf(&b, "%d", 1), -E2BIG, "formatting past the limit fails");
	is_int(b.len, 8, "length unchanged");
	ok(b.cap <= 9, "a limited buffer never allocates past its limit (cap %zu)", b.cap);
	buf_free(&b);

	buf_init(&b, 0);
	buf_puts(&b, "steal me");
	char *s = buf_steal(&b);
	is_str(s, "steal me", "steal hands over the data");
	ok(b.data == NULL && b.len == 0, "buffer empty after steal");
	free(s);
	s = buf_steal(&b);
	is_str(s, "", "steal of an empty buffer gives an empty string, not NULL");
	free(s);
	is_int(buf_reserve(&b, (size_t)-1), -E2BIG, "absurd reservation refused");
	buf_free(&b);
	buf_free(&b);
	ok(1, "double free of a buf is harmless");
	return done_testing();
}
