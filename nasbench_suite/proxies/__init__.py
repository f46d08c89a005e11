"""Zero-cost proxies (synflow, NASWOT, snip, grad_norm, jacob_cov, fisher, grasp) of untrained networks (torch)."""

from nasbench_suite.proxies.measures import PROXIES, PROXY_INFO, ProxyInfo, check_proxies, compute_proxies

__all__ = ["PROXIES", "PROXY_INFO", "ProxyInfo", "check_proxies", "compute_proxies"]
