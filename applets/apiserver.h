/* Names shared by the API server role (applets/apiserver.c) and the
 * commands that find it (applets/system.c, applets/api_client.c): both
 * live in $RUN (lib/paths.h). */
#ifndef APPLETS_APISERVER_H
#define APPLETS_APISERVER_H

#define APISERVER_SOCKET "container.sock"
#define APISERVER_PIDFILE "apiserver.pid"
/* The daemon's log in $DATA, and its size bound (then apiserver.log.1). */
#define APISERVER_LOG "apiserver.log"
#define APISERVER_LOG_MAX ((size_t)4 << 20)

#endif
