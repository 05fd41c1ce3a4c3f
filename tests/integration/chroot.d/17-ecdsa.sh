# shellcheck shell=bash
# Sourced by tests/integration/debian.sh (see the comment above its loop).
#
# An ECDSA certificate from Debian's own template: mkimapdcert --key-type ec
# with the chroot's /etc/courier/imapd.cnf (a certtool template) makes a PEM
# whose key is certtool's form (BEGIN EC PRIVATE KEY), that Debian's
# couriertls serves in an ECDSA handshake (the certificate served is the
# PEM's), and that --check finds OK.  Debian's template names no
# subjectAltName, which --check warns about, so the name is given with --san
# as an admin would.  Its own PEM, port and pid file; everything removed.

ecdsa_base=/tmp/mkcert-ecdsa
ecdsa_pem=$ecdsa_base.pem
ecdsa_pid=/run/courier-mkcert-ecdsa.pid
log "17-ecdsa: --key-type ec from Debian's template, served by couriertls"
in_chroot mkimapdcert -q --key-type ec --san localhost -c /etc/courier/imapd.cnf "$ecdsa_base" \
    >>"$aptlog" 2>&1 || fail "mkimapdcert --key-type ec"
head -n 1 "$root$ecdsa_pem" | grep -qx -- '-----BEGIN EC PRIVATE KEY-----' ||
    fail "$ecdsa_pem does not start with certtool's EC key form"
in_chroot openssl x509 -in "$ecdsa_pem" -noout -text | grep -q 'Signature Algorithm: ecdsa-with-SHA256' ||
    fail "$ecdsa_pem is not signed with ecdsa-with-SHA256 (certtool's choice for P-256)"
[ "$(in_chroot openssl pkey -in "$ecdsa_pem" -pubout)" = "$(in_chroot openssl x509 -in "$ecdsa_pem" -noout -pubkey)" ] ||
    fail "$ecdsa_pem: key and certificate do not match"
out=$(in_chroot mkimapdcert --check "$ecdsa_base" 2>&1) || fail "--check of $ecdsa_pem: $out"
case $out in "CERT OK - "*) ;; *) fail "--check of $ecdsa_pem said: $out" ;; esac

ecdsa_port=$(free_port)
in_chroot env TLS_CERTFILE="$ecdsa_pem" \
    /usr/sbin/couriertcpd -pid="$ecdsa_pid" -nodnslookup -noidentlookup -maxprocs=4 \
    -stderr=/tmp/couriertcpd-ecdsa.log -address=127.0.0.1 "$ecdsa_port" \
    /usr/bin/couriertls -server -tcpd /bin/cat || fail "couriertcpd for $ecdsa_pem"
ecdsa_handshake() {  # s_client's report of one handshake with the given options
    local out="" _
    for _ in $(seq 50); do
        out=$(echo | in_chroot timeout 10 openssl s_client -connect "127.0.0.1:$ecdsa_port" "$@" 2>&1) &&
            [ -n "$(echo "$out" | sed -n '/BEGIN CERTIFICATE/p')" ] && break
        sleep 0.1
    done
    echo "$out"
}
hs=$(ecdsa_handshake -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256)
echo "$hs" | grep -q 'Cipher is ECDHE-ECDSA-AES128-GCM-SHA256' ||
    { cat "$root/tmp/couriertcpd-ecdsa.log" >&2; echo "$hs" | tail -n 20 >&2; fail "no ECDSA handshake with couriertls"; }
served=$(echo "$hs" | in_chroot openssl x509 -noout -fingerprint -sha256)
want=$(in_chroot openssl x509 -in "$ecdsa_pem" -noout -fingerprint -sha256)
[ "$served" = "$want" ] || fail "couriertls served '$served', $ecdsa_pem has '$want'"
hs13=$(ecdsa_handshake -tls1_3)
echo "$hs13" | grep -q 'Peer signature type: ECDSA' || fail "TLS 1.3 handshake not signed with ECDSA"
in_chroot /usr/sbin/couriertcpd -pid="$ecdsa_pid" -stop
rm -f "$root$ecdsa_pem" "$root/tmp/couriertcpd-ecdsa.log"
log "17-ecdsa: couriertls served $served (ECDHE-ECDSA; TLS 1.3 ECDSA); --check OK"
