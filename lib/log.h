/* Logging with levels.  One logger per process, configured once by the
 * front-end (`--debug` sets LOG_DEBUG; CONTAINER_LOG=debug|info|warn|error
 * too).  Lines go to stderr (or the fd given to log_init) as
 * "container: level: message", or with a timestamp for daemons.
 *
 * Logging is for events worth a line; errors that are returned are not
 * also logged (lib/err.h).  Secrets never go into a log line. */
#ifndef LIB_LOG_H
#define LIB_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

struct log_config {
	const char *prog;     /* prefix, e.g. "container" */
	enum log_level level;
	int fd;               /* -1 = stderr */
	int timestamps;       /* daemons: RFC 3339 UTC timestamps */
};

void log_init(const struct log_config *c);
enum log_level log_level(void);
/* Parse "debug", "info", "warn", "error"; -1 when unknown. */
int log_level_parse(const char *s);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_level() >= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
