"""DER and the X.509 vocabulary every layer shares: encoders, the object table, names."""
