"""Keys, certificates, chains and DH parameters: bytes in, bytes out."""
