"""OpenSSL ``req`` configs, read as ``openssl req`` reads them."""
