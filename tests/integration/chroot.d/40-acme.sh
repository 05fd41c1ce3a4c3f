# A real ACME order end to end: Debian's pebble (Let's Encrypt's test server)
# on a loopback port, Debian's lego obtaining a certificate through the
# package's lego-hook into a PEM of this part's own, Courier's couriertls
# serving that chain to a client that trusts only pebble's root; then a
# forced renewal, served at once, the previous PEM kept as .old.
log "A: ACME: lego + lego-hook put pebble's chain into a PEM; couriertls serves it"
apt_in_chroot install pebble lego
acme=/tmp/acme
acme_pem=/etc/courier/acme-test.pem
acme_pid=/run/courier-mkcert-acme-test.pid
acme_hook=/usr/share/courier-mkcert/lego-hook
[ -x "$root$acme_hook" ] || fail "$acme_hook is not installed"
mkdir -p "$root$acme/www"
# pebble's own TLS certificate for 127.0.0.1, from a throw-away CA.
in_chroot sh -euc '
    cd /tmp/acme
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls-ca.key \
        -out tls-ca.pem -subj "/CN=pebble TLS test CA" -days 2
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key \
        -subj /CN=localhost -out tls.csr
    printf "subjectAltName=IP:127.0.0.1\n" >tls.ext
    openssl x509 -req -in tls.csr -CA tls-ca.pem -CAkey tls-ca.key -CAcreateserial \
        -extfile tls.ext -days 2 -out tls.pem
' >>"$aptlog" 2>&1 || fail "pebble's TLS certificate"
acme_port=$(free_port)
printf '{"pebble": {"listenAddress": "127.0.0.1:%s", "managementListenAddress": "127.0.0.1:%s", "certificate": "/tmp/acme/tls.pem", "privateKey": "/tmp/acme/tls.key", "httpPort": %s, "tlsPort": %s, "ocspResponderURL": "", "externalAccountBindingRequired": false}}\n' \
    "$acme_port" "$(free_port)" "$(free_port)" "$(free_port)" >"$root$acme/pebble.json"
acme_management=$(sed 's/.*"managementListenAddress": "127.0.0.1:\([0-9]*\)".*/\1/' "$root$acme/pebble.json")
in_chroot env PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
    pebble -config "$acme/pebble.json" >"$work/pebble.log" 2>&1 &
pebble_pid=$!
fetch() {  # URL: its body, trusting pebble's TLS CA
    in_chroot python3 -c 'import ssl, sys, urllib.request
context = ssl.create_default_context(cafile="/tmp/acme/tls-ca.pem")
sys.stdout.write(urllib.request.urlopen(sys.argv[1], context=context, timeout=5).read().decode())' "$1"
}
for _ in $(seq 100); do
    fetch "https://127.0.0.1:$acme_port/dir" >/dev/null 2>&1 && break
    kill -0 "$pebble_pid" 2>/dev/null || { cat "$work/pebble.log" >&2; fail "pebble exited"; }
    sleep 0.2
done
fetch "https://127.0.0.1:$acme_management/roots/0" >"$root$acme/root.pem" || fail "pebble's root"
cp "$root/etc/courier/mkcert-install.conf" "$work/mkcert-install.conf.before"
echo "$acme_pem mail.example.test" >>"$root/etc/courier/mkcert-install.conf"
lego_in_chroot() {
    in_chroot env LEGO_CA_CERTIFICATES=$acme/tls-ca.pem lego --server "https://127.0.0.1:$acme_port/dir" \
        --accept-tos --email postmaster@example.test --path "$acme/lego" --key-type ec256 \
        --http --http.webroot "$acme/www" -d mail.example.test "$@"
}
out=$(lego_in_chroot run --run-hook "$acme_hook" 2>&1) || { echo "$out" >&2; fail "lego run"; }
echo "$out" >>"$aptlog"
case $out in *"$acme_pem: installed "*"; lego renewed mail.example.test"*) ;;
    *) echo "$out" >&2; fail "lego-hook did not install $acme_pem" ;; esac
[ "$(in_chroot stat -c '%a %U' "$acme_pem")" = "600 courier" ] || fail "$acme_pem: not 0600 courier"
acme_served() {
    echo | in_chroot timeout 10 openssl s_client -connect "127.0.0.1:$tls_port" -showcerts 2>/dev/null |
        sed -n '/^-----BEGIN CERTIFICATE-----$/,/^-----END CERTIFICATE-----$/p'
}
acme_lego_files=$acme/lego/certificates/mail.example.test
check_acme_pem() {  # what the PEM holds is lego's key and chain; couriertls serves that chain
    [ "$(in_chroot openssl pkey -in "$acme_pem")" = "$(in_chroot openssl pkey -in "$acme_lego_files.key")" ] ||
        fail "$acme_pem does not hold lego's key"
    acme_want=$(cert_fingerprints <"$root$acme_lego_files.crt")
    [ "$(echo "$acme_want" | wc -l)" = 2 ] || fail "lego's bundle is not leaf and intermediate"
    [ "$(cert_fingerprints <"$root$acme_pem")" = "$acme_want" ] || fail "$acme_pem does not hold lego's chain"
    acme_got=""
    for _ in $(seq 50); do
        acme_got=$(acme_served | cert_fingerprints)
        [ "$acme_got" = "$acme_want" ] && break
        sleep 0.1
    done
    same_state "couriertls does not serve lego's chain from $acme_pem" "$acme_want" "$acme_got"
    echo | in_chroot timeout 10 openssl s_client -connect "127.0.0.1:$tls_port" -CAfile "$acme/root.pem" \
        -verify_return_error -verify_hostname mail.example.test >"$work/acme-verify.log" 2>&1 &&
        grep -q '^Verify return code: 0 (ok)$' "$work/acme-verify.log" ||
        { cat "$work/acme-verify.log" >&2; fail "a client trusting pebble's root refuses couriertls"; }
    out=$(in_chroot mkimapdcert --check --ca-file "$acme/root.pem" "$acme_pem" 2>&1) ||
        fail "--check --ca-file pebble's root: $out"
    echo "$out" >>"$aptlog"
    case $out in "CERT OK - $acme_pem: CN=mail.example.test "*"trusted: ends at CN=Pebble Root CA "*) ;;
        *) fail "--check --ca-file said: $out" ;; esac
}
tls_port=$(free_port)
in_chroot env TLS_CERTFILE="$acme_pem" TLS_DHPARAMS=/etc/courier/dhparams.pem \
    /usr/sbin/couriertcpd -pid="$acme_pid" -nodnslookup -noidentlookup -maxprocs=4 \
    -stderr=/tmp/couriertcpd-acme.log -address=127.0.0.1 "$tls_port" \
    /usr/bin/couriertls -server -tcpd /bin/cat || fail "couriertcpd for $acme_pem"
check_acme_pem
acme_first=$(echo "$acme_want" | head -n 1)
# pebble's certificates last five years: renewing within 3000 days forces it.
out=$(lego_in_chroot renew --days 3000 --no-random-sleep --renew-hook "$acme_hook" 2>&1) ||
    { echo "$out" >&2; fail "lego renew"; }
echo "$out" >>"$aptlog"
case $out in *"the previous one is $acme_pem.old; lego renewed mail.example.test"*) ;;
    *) echo "$out" >&2; fail "lego-hook did not replace $acme_pem" ;; esac
check_acme_pem
[ "$(echo "$acme_want" | head -n 1)" != "$acme_first" ] || fail "the renewal served the same leaf"
[ "$(cert_fingerprints <"$root$acme_pem.old" | head -n 1)" = "$acme_first" ] ||
    fail "$acme_pem.old is not the PEM the renewal replaced"
log "A: couriertls serves pebble's chain from lego, then the renewed one; .old kept"
in_chroot /usr/sbin/couriertcpd -pid="$acme_pid" -stop
kill "$pebble_pid"
wait "$pebble_pid" 2>/dev/null || true
cp "$work/mkcert-install.conf.before" "$root/etc/courier/mkcert-install.conf"
rm -rf "$root$acme" "$root$acme_pem" "$root$acme_pem.old" "$root/tmp/couriertcpd-acme.log"
