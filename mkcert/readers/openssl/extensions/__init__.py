"""The x509v3_config extension language: a config section in, extensions out.

Byte for byte as OpenSSL 3.0 encodes them (checked against the ``openssl``
binary), refusing what OpenSSL refuses and naming the line.  The entry
point is :func:`section.extensions_from_config`; one module per concept:

* ``section``: reads the section, dispatches each line, adds the key
  identifier; encodes the extensions Courier's configs use (bits, basic
  constraints, key purposes, key identifiers) and the one-value ones;
* ``values``: what every handler shares (the section reader, the error,
  lists, hex, booleans, integers, ``critical,``);
* ``general_names``: ``DNS:``, ``IP:``, ``dirName:``, ``otherName:`` and the
  alternative names;
* ``distribution_points``, ``information_access``, ``policies`` (with name
  constraints) and ``asn1_generator`` (``ASN1:`` values), loaded only when a
  section uses them.
"""
