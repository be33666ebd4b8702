# net/: networks and IPAM, DNS, the port proxy, the link layer (issue #7),
# and the commands and roles that use them (applets/network*.c).
SRCS += net/addr.c net/network.c net/dns.c net/proxy.c
SRCS += applets/network.c applets/network_run.c applets/network_helper.c applets/api_network.c
SRCS_linux += net/link_linux.c net/nat_linux.c
SRCS_darwin += net/link_darwin.c net/nat_darwin.c
UNIT_TESTS += t/unit/net_addr.c t/unit/net_dns.c t/unit/net_network.c t/unit/net_proxy.c
FUZZ_TARGETS += t/fuzz/dns_packet.c
SHELL_TESTS += t/integ/net.sh
BENCHES += t/bench/net.sh
SHELL_TESTS += t/integ/net_api.sh t/integ/docker_net.sh t/integ/net_multi.sh t/integ/compose.sh
