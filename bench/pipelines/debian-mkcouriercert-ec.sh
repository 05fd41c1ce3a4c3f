#!/bin/sh
# What Debian 12's /usr/lib/courier/mkcouriercert (courier-base 1.0.16,
# built with GnuTLS) does for mkimapdcert, with its fixed paths and owner
# made arguments so that bench/compare.py can run it in a scratch directory.
# Our own text reproducing its steps in order: install -m 600 -o OWNER of
# the three files, certtool --generate-privkey --sec-param=$BITS (default
# high), certtool --generate-self-signed with NAME.cnf as the template,
# cp/chmod/chown of the PEM, cat key and certificate into it, rm.
#
#   debian-mkcouriercert.sh NAME SYSCONFDIR CERTSDIR MAILUSER
#
# Reads SYSCONFDIR/NAME.cnf (a certtool template), writes CERTSDIR/NAME.pem.
# The same with an EC P-256 key: certtool --generate-privkey --key-type ecdsa
# --curve secp256r1, what an admin would run for an ECDSA certificate.

NAME=$1
SYSCONFDIR=$2
CERTSDIR=$3
MAILUSER=$4
BASE="$CERTSDIR/$NAME"

test -x /usr/bin/certtool || exit 0

if test -f "$BASE.pem"
then
	echo "$BASE.pem already exists."
	exit 1
fi

cleanup() {
	rm -f "$BASE.rand" "$BASE.pem" "$BASE.key" "$BASE.cert"
	exit 1
}

cd "$CERTSDIR"
umask 077
BITS="$BITS"
set -e

install -b -m 600 -o "$MAILUSER" /dev/null "$BASE.pem"

if test "$BITS" = ""
then
	BITS="high"
fi

install -b -m 600 -o "$MAILUSER" /dev/null "$BASE.key"
install -v -m 600 -o "$MAILUSER" /dev/null "$BASE.cert"

/usr/bin/certtool --generate-privkey --key-type ecdsa --curve secp256r1 --outfile "$BASE.key" || cleanup
/usr/bin/certtool --generate-self-signed --load-privkey "$BASE.key" \
	--outfile "$BASE.cert" --template "$SYSCONFDIR/$NAME.cnf" || cleanup

cp /dev/null "$BASE.pem"
chmod 600 "$BASE.pem"
chown "$MAILUSER" "$BASE.pem"
cat "$BASE.key" "$BASE.cert" >"$BASE.pem"
rm -f "$BASE.key" "$BASE.cert"
