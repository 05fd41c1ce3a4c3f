# Several domains (SNI): Debian's couriertls, started through couriertcpd with
# the environment Debian's /etc/courier/imapd-ssl gives it (TLS_CERTFILE=
# /etc/courier/imapd.pem), serves the per-domain files that `mkimapdcert
# --domain` makes; `mkimapdcert --which NAME` names the file whose certificate
# `openssl s_client -servername NAME` receives, for two domain files, a
# parent-domain file, a name without a file, no SNI at all, and a file named
# with capitals (never served to a client sending lowercase).  A broken domain
# file takes only its own name off TLS, and --check says so first.
# Sourced by tests/integration/debian.sh (see the comment above its loop).

sni_base=/etc/courier/imapd.pem
sni_names="mail.example.org mail.example.com example.net caps.example.org"
sni_pid=/tmp/sni-couriertcpd.pid

log "SNI: --domain makes per-domain files beside TLS_CERTFILE of imapd-ssl"
in_chroot grep -q "^TLS_CERTFILE=$sni_base\$" /etc/courier/imapd-ssl ||
    fail "Debian's imapd-ssl no longer sets TLS_CERTFILE=$sni_base"
[ -f "$root$sni_base" ] || fail "$sni_base missing before the SNI part"
for name in $sni_names; do
    in_chroot mkimapdcert -q --domain "$name" >>"$aptlog" 2>&1 || fail "mkimapdcert --domain $name"
    in_chroot openssl x509 -in "$sni_base.$name" -noout -ext subjectAltName | grep -q "DNS:$name" ||
        fail "$sni_base.$name does not name $name in subjectAltName"
done
mv "$root$sni_base.caps.example.org" "$root$sni_base.Caps.example.org"

sni_port=$(free_port)
# As Courier's own imapd-ssl script starts it: the config sourced, then couriertcpd.
in_chroot sh -c "set -a; . /etc/courier/imapd; . /etc/courier/imapd-ssl; exec /usr/sbin/couriertcpd \
    -pid=$sni_pid -nodnslookup -noidentlookup -maxprocs=4 -stderr=/tmp/sni-couriertcpd.log \
    -address=127.0.0.1 $sni_port /usr/bin/couriertls -server -tcpd /bin/cat" ||
    fail "couriertcpd for the SNI part"
for _ in $(seq 50); do
    in_chroot python3 -c "import socket; socket.create_connection(('127.0.0.1', $sni_port), 1)" \
        2>/dev/null && break
    sleep 0.2
done

# The leaf couriertls sends to a client naming $1 ('' for no SNI), as a fingerprint.
sni_served() {
    local args=""
    [ -n "$1" ] && args="-servername $1"
    echo | in_chroot timeout 10 openssl s_client -connect "127.0.0.1:$sni_port" $args 2>/dev/null |
        sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' |
        in_chroot openssl x509 -noout -fingerprint -sha256 2>/dev/null
}

for name in mail.example.org mail.example.com imap.example.net example.net caps.example.org \
            other.example.org ""; do
    predicted=$(in_chroot mkimapdcert --which "$name" --local-ip 127.0.0.1 | head -n 1 | cut -d: -f1)
    [ -f "$root$predicted" ] || fail "--which '$name' names '$predicted', which is not a file"
    want=$(in_chroot openssl x509 -in "$predicted" -noout -fingerprint -sha256)
    got=$(sni_served "$name")
    [ -n "$got" ] || { cat "$root/tmp/sni-couriertcpd.log" >&2; fail "no handshake for '$name'"; }
    [ "$got" = "$want" ] || fail "for '$name' couriertls served $got; --which said $predicted ($want)"
    log "SNI: '${name:-no SNI}' gets $predicted, as --which says"
done
case $(in_chroot mkimapdcert --which imap.example.net | head -n 1) in
    "$sni_base.example.net: "*) ;;
    *) fail "--which imap.example.net does not name the parent-domain file" ;;
esac
in_chroot mkimapdcert --which caps.example.org >/dev/null && fail "--which caps.example.org: exit 0, the capitalised file is never served"

log "SNI: a broken domain file fails its own name only; --check puts it first"
printf -- '-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n' >"$root$sni_base.broken.example.org"
chmod 600 "$root$sni_base.broken.example.org"
[ -z "$(sni_served broken.example.org)" ] || fail "couriertls served a certificate for the broken file's name"
[ "$(sni_served mail.example.org)" = "$(in_chroot openssl x509 -in "$sni_base.mail.example.org" -noout -fingerprint -sha256)" ] ||
    fail "the broken file took mail.example.org off TLS too"
in_chroot mkimapdcert --check >"$root/tmp/sni-check.out" && fail "--check exit 0 with a broken domain file"
head -n 1 "$root/tmp/sni-check.out" | grep -q "^CERT CRITICAL - $sni_base.broken.example.org: " ||
    fail "--check does not put the broken file first: $(head -n 1 "$root/tmp/sni-check.out")"
grep -q "^CERT WARNING - $sni_base.Caps.example.org: .*capitals" "$root/tmp/sni-check.out" ||
    fail "--check does not warn about the capitalised file"

log "SNI: the renewal helper renews a due self-signed domain file"
in_chroot /usr/lib/courier/courier-mkcert-renew-all 400 >"$root/tmp/sni-renew.out" 2>&1 || true
grep -q "^$sni_base.mail.example.org: renewed" "$root/tmp/sni-renew.out" ||
    fail "courier-mkcert-renew-all did not renew $sni_base.mail.example.org: $(cat "$root/tmp/sni-renew.out")"

in_chroot /usr/sbin/couriertcpd -pid="$sni_pid" -stop
rm -f "$root$sni_base".*.* "$root/tmp/sni-"*
log "SNI: done"
