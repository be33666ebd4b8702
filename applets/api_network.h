/* The Docker Engine API's network endpoints (applets/api_network.c),
 * routed by applets/api_router.c. */
#ifndef APPLETS_API_NETWORK_H
#define APPLETS_API_NETWORK_H

struct api_call;

void api_network_list(struct api_call *c);    /* GET /networks */
void api_network_inspect(struct api_call *c); /* GET /networks/{id} */
void api_network_create(struct api_call *c);  /* POST /networks/create */
void api_network_delete(struct api_call *c);  /* DELETE /networks/{id} */
void api_network_prune(struct api_call *c);   /* POST /networks/prune */
void api_network_connect(struct api_call *c);    /* POST /networks/{id}/connect */
void api_network_disconnect(struct api_call *c); /* POST /networks/{id}/disconnect */

#endif
