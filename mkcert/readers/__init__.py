"""From configuration text to a neutral CertRequest: no file is written here."""
