#!/bin/sh
# What upstream Courier's mkimapdcert does in an OpenSSL build (courier-libs
# imap/mkimapdcert.in), with its configure-time paths made arguments so that
# bench/compare.py can run it in a scratch directory.  Our own text; the
# steps and their order follow the project spec (upstream-behaviour.md), section 4.
#
#   openssl-mkcert.sh NAME SYSCONFDIR CERTSDIR MAILUSER
#
# Reads SYSCONFDIR/NAME.cnf, writes CERTSDIR/NAME.pem.
# The same with an EC P-256 key: `openssl req -newkey ec -pkeyopt
# ec_paramgen_curve:P-256`, what an admin would run for an ECDSA certificate.

NAME=$1
SYSCONFDIR=$2
CERTSDIR=$3
MAILUSER=$4
PEM="$CERTSDIR/$NAME.pem"
RAND="$CERTSDIR/$NAME.rand"

test -x /usr/bin/openssl || exit 0

if test -f "$PEM"
then
	echo "$PEM already exists."
	exit 1
fi

cleanup() {
	rm -f "$PEM" "$RAND" "$CERTSDIR/$NAME.key" "$CERTSDIR/$NAME.cert"
	exit 1
}

umask 077
set -e

cp /dev/null "$PEM"
chmod 600 "$PEM"
chown "$MAILUSER" "$PEM"

dd if=/dev/urandom of="$RAND" count=1 2>/dev/null
/usr/bin/openssl req -new -x509 -days 365 -nodes \
	-newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	-config "$SYSCONFDIR/$NAME.cnf" -out "$PEM" -keyout "$PEM" || cleanup
/usr/bin/openssl x509 -subject -dates -fingerprint -noout -in "$PEM" || cleanup
rm -f "$RAND"
