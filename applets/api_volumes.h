/* The Docker Engine API's volume endpoints (applets/api_volumes.c),
 * routed by applets/api_router.c. */
#ifndef APPLETS_API_VOLUMES_H
#define APPLETS_API_VOLUMES_H

struct api_call;

void api_volume_list(struct api_call *c);    /* GET /volumes */
void api_volume_create(struct api_call *c);  /* POST /volumes/create */
void api_volume_inspect(struct api_call *c); /* GET /volumes/{name} */
void api_volume_delete(struct api_call *c);  /* DELETE /volumes/{name} */
void api_volume_prune(struct api_call *c);   /* POST /volumes/prune */

#endif
