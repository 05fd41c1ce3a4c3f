# Part of tests/integration/debian.sh (sourced; see the comment above its loop).
# DANE on Debian's stack: mkesmtpdcert --tlsa, run by the installed package on
# Debian's python3-cryptography, prints for the current and a staged next key
# the digests openssl's pipeline gives; the current key's record matches the
# key that Courier's couriertls really serves; --check --tlsa-records accepts
# what --tlsa printed and is CRITICAL for a record of another key.
dane_pem=/tmp/dane-esmtpd
dane_staged=$dane_pem.next-key.pem
dane_pid=/tmp/dane-couriertcpd.pid
dane_name=_25._tcp.mx.example.org.

log "DANE: mkesmtpdcert --san mx.example.org $dane_pem, a staged next key, --tlsa"
in_chroot mkesmtpdcert --san mx.example.org "$dane_pem" >>"$aptlog" 2>&1 || fail "mkesmtpdcert $dane_pem"
in_chroot sh -c "umask 077 && openssl genpkey -algorithm ED25519 -out $dane_staged" ||
    fail "openssl genpkey $dane_staged"
dane_records=$(in_chroot mkesmtpdcert --tlsa "$dane_pem" 2>&1) || fail "--tlsa: $dane_records"
dane_current=$(in_chroot sh -c "openssl x509 -in $dane_pem.pem -pubkey -noout |
    openssl pkey -pubin -outform DER | sha256sum" | cut -d' ' -f1)
dane_next=$(in_chroot sh -c "openssl pkey -in $dane_staged -pubout |
    openssl pkey -pubin -outform DER | sha256sum" | cut -d' ' -f1)
dane_want="$dane_name IN TLSA 3 1 1 $dane_current ; current key
$dane_name IN TLSA 3 1 1 $dane_next ; staged next key $dane_staged"
[ "$dane_records" = "$dane_want" ] || fail "--tlsa printed '$dane_records', openssl says '$dane_want'"

log "DANE: couriertls serves the key of the current record"
dane_port=$(free_port)
in_chroot env TLS_CERTFILE="$dane_pem.pem" \
    /usr/sbin/couriertcpd -pid="$dane_pid" -nodnslookup -noidentlookup -maxprocs=4 \
    -stderr=/tmp/dane-couriertcpd.log -address=127.0.0.1 "$dane_port" \
    /usr/bin/couriertls -server -tcpd /bin/cat || fail "couriertcpd for DANE"
dane_served=""
for _ in $(seq 50); do
    dane_served=$(echo | in_chroot timeout 10 openssl s_client -connect "127.0.0.1:$dane_port" \
        2>/dev/null | in_chroot sh -c 'openssl x509 -pubkey -noout |
        openssl pkey -pubin -outform DER | sha256sum' 2>/dev/null | cut -d' ' -f1)
    [ -n "$dane_served" ] && [ "$dane_served" != "$(printf '' | sha256sum | cut -d' ' -f1)" ] && break
    dane_served=""
    sleep 0.1
done
in_chroot /usr/sbin/couriertcpd -pid="$dane_pid" -stop
[ -n "$dane_served" ] || { cat "$root/tmp/dane-couriertcpd.log" >&2; fail "no TLS handshake on $dane_port"; }
[ "$dane_served" = "$dane_current" ] || fail "couriertls served key $dane_served, the record says $dane_current"

log "DANE: --check --tlsa-records"
echo "$dane_records" >"$root/tmp/dane-records"
dane_check=$(in_chroot mkesmtpdcert --check --tlsa-records /tmp/dane-records "$dane_pem") ||
    fail "--check --tlsa-records of what --tlsa printed: $dane_check"
case $dane_check in
    *"; TLSA at $dane_name matches the served and the staged key; "*) ;;
    *) fail "--check --tlsa-records said: $dane_check" ;;
esac
echo "$dane_name IN TLSA 3 1 1 $dane_next" >"$root/tmp/dane-records"
dane_status=0
dane_check=$(in_chroot mkesmtpdcert --check --tlsa-records /tmp/dane-records "$dane_pem") ||
    dane_status=$?
[ "$dane_status" = 2 ] || fail "--check with no record of the served key: exit $dane_status: $dane_check"
rm -f "$root$dane_pem.pem" "$root$dane_staged" "$root$dane_pem.rand" "$root/tmp/dane-records" \
    "$root/tmp/dane-couriertcpd.log" "$root$dane_pid"
log "DANE: the records match openssl's digests and the key couriertls serves"
