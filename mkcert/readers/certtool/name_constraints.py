"""Name constraints (``nc_permit_*``, ``nc_exclude_*``), which certtool writes for a CA only.

Few templates have them, so only those load this module.
"""

from __future__ import annotations

import re

from mkcert.asn1 import der, general_names as gn
from mkcert.errors import shorten
from mkcert.readers.certtool.options import Template, ia5_name

__all__ = ["name_constraints"]

# (option, GeneralName choice) in certtool's order: permitted before excluded,
# IP addresses, then DNS names, then e-mail.
NAME_CONSTRAINT_OPTIONS = (
    ("nc_permit_ip", gn.IP_ADDRESS), ("nc_permit_dns", gn.DNS_NAME),
    ("nc_permit_email", gn.RFC822_NAME),
    ("nc_exclude_ip", gn.IP_ADDRESS), ("nc_exclude_dns", gn.DNS_NAME),
    ("nc_exclude_email", gn.RFC822_NAME),
)


def name_constraints(template: Template) -> bytes | None:
    """permittedSubtrees [0], excludedSubtrees [1]: one GeneralSubtree per option.

    None when no option gives a subtree.
    """
    subtrees = {"permit": [], "exclude": []}
    for name, choice in NAME_CONSTRAINT_OPTIONS:
        for option in template.all(name):
            if choice == gn.IP_ADDRESS:
                base = gn.ip_address(_cidr(template, option))
            else:
                base = ia5_name(template, option, choice, empty_ok=True)
            subtrees[name.split("_")[1]].append(der.sequence(base))
    parts = [der.context(number, b"".join(subtrees[kind]))
             for number, kind in ((0, "permit"), (1, "exclude")) if subtrees[kind]]
    return der.sequence(*parts) if parts else None


def _cidr(template, option):
    """``10.0.0.0/8`` as RFC 5280 wants it: the address, then the mask.

    As GnuTLS reads it: the prefix is required, and host bits are cleared.
    """
    import ipaddress  # only CA templates with IP constraints pay for it

    address, slash, prefix = option.value.partition("/")
    try:
        if not slash or not re.fullmatch(r"[0-9]+", prefix) or "%" in address:
            raise ValueError(option.value)
        network = ipaddress.ip_network(f"{address}/{int(prefix)}", strict=False)
    except ValueError:
        template.fail(option, f"'{shorten(option.value)}' is not an address/prefix (CIDR)")
    return network.network_address.packed + network.netmask.packed
