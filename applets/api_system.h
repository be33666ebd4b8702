/* System endpoints of the Docker Engine API (GET|HEAD /_ping, GET
 * /version, GET /info) and the /container/system/status extension;
 * listed in applets/api_router.c's table. */
#ifndef APPLETS_API_SYSTEM_H
#define APPLETS_API_SYSTEM_H

struct api_call;

void api_system_ping(struct api_call *c);
void api_system_version(struct api_call *c);
void api_system_info(struct api_call *c);
void api_system_status(struct api_call *c);

/* The headers every _ping answer carries (Docker's set). */
#define API_PING_HEADERS                                                               \
	"Api-Version: " API_VERSION "\r\nDocker-Experimental: false\r\nOstype: linux\r\n" \
	"Builder-Version: 1\r\nCache-Control: no-cache, no-store, must-revalidate\r\n"    \
	"Pragma: no-cache\r\n"

#endif
