"""GnuTLS ``certtool`` templates, read as ``certtool`` reads them."""
